import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import {
  applyMask,
  decodePageToken,
  encodePageToken,
  mccMnc,
  pageSize,
  prefixDigits,
  uuidv7,
  isUuid,
} from './validate.js';
import { RpcError } from './errors.js';

function error(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (err) {
    return err as RpcError;
  }
  throw new Error('expected an error');
}

describe('validation helpers', () => {
  it('reads prefixes and networks the way the tables store them', () => {
    expect(prefixDigits('p', '+44')).toBe('44');
    expect(error(() => prefixDigits('rule.destination_prefixes[0]', '044')).message).toBe(
      'rule.destination_prefixes[0]: must be 1-15 digits of an E.164 prefix (no leading 0)',
    );
    expect(mccMnc('m', '23415')).toEqual({ mcc: '234', mnc: '15' });
    expect(mccMnc('m', '310-260')).toEqual({ mcc: '310', mnc: '260' });
    expect(error(() => mccMnc('m', '23-415')).code).toBe(status.INVALID_ARGUMENT);
  });

  it('pages: default 100, capped at 1000, tokens bound to their filters', () => {
    expect(pageSize(0)).toBe(100);
    expect(pageSize(5000)).toBe(1000);
    expect(error(() => pageSize(-1)).message).toBe('page_size: must not be negative');
    const t = encodePageToken('acc_9', { state: 1 });
    expect(decodePageToken(t, { state: 1 })).toBe('acc_9');
    expect(error(() => decodePageToken(t, { state: 2 })).message).toMatch(
      /^page_token: was made for other filters/,
    );
    expect(error(() => decodePageToken('garbage!', {})).message).toMatch(/^page_token:/);
    expect(decodePageToken('', {})).toBeUndefined();
  });

  it('applies an update mask to top-level fields only', () => {
    const stored = { id: 'a', name: 'old', priority: 1, revision: 3n };
    const incoming = { id: 'a', name: 'new', priority: 9, revision: 0n };
    expect(applyMask(stored, incoming, [], 'R', ['revision'])).toBe(incoming);
    expect(applyMask(stored, incoming, ['name'], 'R', ['revision'])).toEqual({ ...stored, name: 'new' });
    expect(error(() => applyMask(stored, incoming, ['colour'], 'R', [])).message).toBe(
      'update_mask: "colour" is not a field of R',
    );
    expect(error(() => applyMask(stored, incoming, ['revision'], 'R', ['revision'])).message).toMatch(
      /output only/,
    );
  });

  it('makes time-ordered UUIDv7 ids', () => {
    const a = uuidv7(1_000);
    const b = uuidv7(2_000);
    expect(isUuid(a)).toBe(true);
    expect(a[14]).toBe('7');
    expect(a < b).toBe(true);
  });
});
