import { describe, expect, it } from 'vitest';
import {
  NO_EVIDENCE,
  candidateKeys,
  observeIdPair,
  primaryKey,
  renderNative,
  textFormatFromEvidence,
  type IdEvidence,
} from './message-id.js';

function overlaps(a: string[], b: string[]): boolean {
  return a.some((k) => b.includes(k));
}

describe('candidateKeys', () => {
  it('maps hex, padded hex, lower/upper case and the decimal spelling of one id to the same key', () => {
    const fromResp = primaryKey('0A1B2C', 'hex');
    expect(fromResp).toBe('n:662316');
    expect(primaryKey('a1b2c', 'hex')).toBe(fromResp);
    expect(primaryKey('000000A1B2C', 'hex')).toBe(fromResp);
    expect(primaryKey('0x0a1b2c', 'decimal')).toBe(fromResp);
    // receipt text spells it in decimal, padded: candidates include the same key
    expect(candidateKeys('0000662316', 'auto')).toContain(fromResp);
    expect(candidateKeys('662316', 'decimal')).toEqual([fromResp]);
  });

  it('gives both interpretations for a digits-only id in auto mode, decimal first', () => {
    expect(candidateKeys('123', 'auto')).toEqual(['n:123', 'n:291']);
    expect(candidateKeys('7', 'auto')).toEqual(['n:7']);
  });

  it('uses one interpretation when the connector format is known', () => {
    expect(candidateKeys('123', 'hex')).toEqual(['n:291']);
    expect(candidateKeys('123', 'decimal')).toEqual(['n:123']);
  });

  it('treats letters as hex even when configured decimal (mis-configuration must not break matching)', () => {
    expect(candidateKeys('ff', 'decimal')).toEqual(['n:255']);
  });

  it('falls back to a trimmed lower-cased string key for non-numeric ids', () => {
    const uuid = ' 3F2504E0-4F89-11D3-9A0C-0305E82C3301 ';
    expect(candidateKeys(uuid, 'auto')).toEqual(['s:3f2504e0-4f89-11d3-9a0c-0305e82c3301']);
    expect(candidateKeys(uuid.toLowerCase(), 'hex')).toEqual(candidateKeys(uuid, 'auto'));
    expect(candidateKeys('msg-42', 'decimal')).toEqual(['s:msg-42']);
  });

  it('returns no key for an empty id', () => {
    expect(candidateKeys('   ', 'auto')).toEqual([]);
  });

  it('handles ids longer than 64 bits exactly', () => {
    const big = 'FFFFFFFFFFFFFFFFFFFFFFFF';
    expect(primaryKey(big, 'hex')).toBe(`n:${(2n ** 96n - 1n).toString()}`);
    expect(candidateKeys((2n ** 96n - 1n).toString(), 'auto')[0]).toBe(primaryKey(big, 'hex'));
  });

  it('does not make unrelated ids collide in a realistic in-flight population', () => {
    // 20,000 in-flight 32-bit supplier ids of a hex connector; each receipt text carries the decimal form.
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const ids = Array.from({ length: 20_000 }, () => next().toString(16).toUpperCase().padStart(8, '0'));
    const native = new Map<string, string>();
    for (const id of ids) native.set(primaryKey(id, 'hex') ?? '', id);
    let wrong = 0;
    for (const id of ids) {
      const text = BigInt(`0x${id}`).toString(10);
      const matches = candidateKeys(text, 'auto').filter((k) => native.has(k));
      expect(matches[0]).toBe(primaryKey(id, 'hex')); // preferred candidate is the right one
      if (matches.length > 1) wrong++;
    }
    expect(wrong).toBe(0);
    // ids from different suppliers (different spellings of unrelated values) do not overlap
    expect(overlaps(candidateKeys('662317', 'auto'), candidateKeys('0A1B2C', 'hex'))).toBe(false);
  });
});

describe('renderNative', () => {
  it('renders a key in the connector spelling with padding and case', () => {
    const key = primaryKey('662316', 'decimal') ?? '';
    expect(renderNative(key, { format: 'hex', pad: 8, case: 'upper' })).toBe('000A1B2C');
    expect(renderNative(key, { format: 'hex', case: 'lower' })).toBe('a1b2c');
    expect(renderNative(key, { format: 'decimal', pad: 10 })).toBe('0000662316');
    expect(renderNative('s:abc-1', { format: 'auto' })).toBe('abc-1');
  });
});

describe('id evidence', () => {
  it('learns that the text is decimal from receipts carrying both TLV (hex) and text id', () => {
    let e: IdEvidence = NO_EVIDENCE;
    expect(textFormatFromEvidence(e)).toBe('auto');
    e = observeIdPair(e, '0A1B2C', '662316', 'hex');
    e = observeIdPair(e, '0A1B2D', '662317', 'hex');
    expect(textFormatFromEvidence(e)).toBe('auto');
    e = observeIdPair(e, '0A1B2E', '0000662318', 'hex');
    expect(e).toEqual({ textDecimal: 3, textHex: 0 });
    expect(textFormatFromEvidence(e)).toBe('decimal');
  });

  it('learns hex text and ignores non-discriminating pairs', () => {
    let e: IdEvidence = NO_EVIDENCE;
    e = observeIdPair(e, '7', '7', 'hex'); // same either way
    expect(e).toEqual(NO_EVIDENCE);
    for (const id of ['1A', '2B', '3C', '10']) e = observeIdPair(e, id, id.toLowerCase(), 'hex');
    expect(textFormatFromEvidence(e)).toBe('hex');
  });

  it('stays auto when evidence disagrees', () => {
    const e: IdEvidence = { textDecimal: 5, textHex: 5 };
    expect(textFormatFromEvidence(e)).toBe('auto');
  });
});
