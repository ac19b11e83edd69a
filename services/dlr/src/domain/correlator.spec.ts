import { describe, expect, it } from 'vitest';
import { Correlator, type CorrelatorConfig, type CorrelatorOutput } from './correlator.js';
import type { Dispatch, IdFormatSetting, Receipt } from './types.js';

const T0 = Date.UTC(2026, 0, 1);

const settings: Record<string, IdFormatSetting> = {
  hexco: { format: 'hex', pad: 8, case: 'upper' },
  decco: { format: 'decimal' },
  autoco: { format: 'auto' },
};

function correlator(extra: Partial<CorrelatorConfig> = {}): Correlator {
  return new Correlator({
    idSetting: (c) => settings[c] ?? { format: 'auto' },
    parkTtlMs: 60_000,
    defaultValidityMs: 3_600_000,
    graceMs: 0,
    ...extra,
  });
}

function dispatch(
  hubMessageId: string,
  connectorId: string,
  supplierMessageId: string,
  d: Partial<Dispatch> = {},
): Dispatch {
  return {
    hubMessageId,
    partIndex: 0,
    partsTotal: 1,
    connectorId,
    attempt: 1,
    supplierMessageId,
    smppStatus: 0,
    accepted: true,
    finalFailure: false,
    time: T0,
    ...d,
  };
}

function receipt(connectorId: string, r: Partial<Receipt>): Receipt {
  return { connectorId, receivedAt: T0 + 1_000, ...r };
}

const finals = (out: CorrelatorOutput[]) =>
  out.flatMap((o) => (o.type === 'delivery' && o.notification.final ? [o.notification] : []));

describe('Correlator: matching id variants', () => {
  it('matches the hex submit_sm_resp id with a decimal, padded receipt text id', () => {
    const c = correlator();
    c.onEvent({ type: 'submitted', hubMessageId: 'm1', partsTotal: 1, time: T0 });
    c.onDispatch(dispatch('m1', 'hexco', '000A1B2C'));
    const out = c.onReceipt(
      receipt('hexco', {
        text: 'id:0000662316 sub:001 dlvrd:001 submit date:2601010000 done date:2601010001 stat:DELIVRD err:000 text:',
      }),
    );
    expect(finals(out)).toEqual([expect.objectContaining({ hubMessageId: 'm1', stat: 'DELIVRD' })]);
  });

  it('matches on the TLV id in another case and padding, preferring TLV state over text', () => {
    const c = correlator();
    c.onDispatch(dispatch('m1', 'hexco', '0A1B2C'));
    const out = c.onReceipt(
      receipt('hexco', { tlvMessageId: 'a1b2c', tlvMessageState: 5, text: 'id:662316 stat:DELIVRD err:021' }),
    );
    expect(finals(out)).toEqual([expect.objectContaining({ status: 'UNDELIVERABLE', err: '021' })]);
  });

  it('matches non-numeric ids case-insensitively and keeps connectors apart', () => {
    const c = correlator();
    c.onDispatch(dispatch('m1', 'autoco', 'AbC-123'));
    c.onDispatch(dispatch('m2', 'other', 'abc-123'));
    const out = c.onReceipt(receipt('autoco', { tlvMessageId: 'abc-123', tlvMessageState: 2 }));
    expect(finals(out).map((n) => n.hubMessageId)).toEqual(['m1']);
  });

  it('on an ambiguous digits-only text id, prefers the decimal reading without evidence', () => {
    const c = correlator();
    c.onDispatch(dispatch('dec', 'autoco', '291')); // auto: 291 decimal
    c.onDispatch(dispatch('hex', 'autoco', '0x123')); // 0x123 = 291 too: a genuine tie on n:291
    c.onDispatch(dispatch('other', 'autoco', '123'));
    const out = c.onReceipt(receipt('autoco', { text: 'id:123 stat:DELIVRD' }));
    expect(finals(out).map((n) => n.hubMessageId)).toEqual(['other']);
  });

  it('reads receipt text dates in the connector time zone', () => {
    const c = new Correlator({
      idSetting: () => ({ format: 'decimal' }),
      receiptTimeZone: () => 'Europe/Berlin',
    });
    c.onDispatch(dispatch('m1', 'x', '5'));
    const out = c.onReceipt(receipt('x', { text: 'id:5 done date:2601011200 stat:DELIVRD' }));
    expect(finals(out)[0]?.time).toBe(Date.UTC(2026, 0, 1, 11, 0));
  });

  it('uses a configured text format instead of evidence', () => {
    const c = new Correlator({ idSetting: () => ({ format: 'decimal', textFormat: 'hex' }) });
    c.onDispatch(dispatch('decimal-reading', 'x', '10'));
    c.onDispatch(dispatch('hex-reading', 'x', '16'));
    const out = c.onReceipt(receipt('x', { text: 'id:10 stat:DELIVRD' }));
    expect(finals(out).map((n) => n.hubMessageId)).toEqual(['hex-reading']);
  });

  it('learns from evidence that this connector writes text ids in hex', () => {
    const c = correlator();
    for (const [i, id] of ['1000', '2000', '3000'].entries()) {
      c.onDispatch(dispatch(`e${i}`, 'hexco', id));
      c.onReceipt(receipt('hexco', { tlvMessageId: id, text: `id:${id} stat:DELIVRD` }));
    }
    expect(c.evidenceFor('hexco')).toEqual({ textDecimal: 0, textHex: 3 });
    // "4096" would be n:4096 decimal-first; evidence says hex: 0x4096 = 16534
    c.onDispatch(dispatch('decimal-reading', 'hexco', '1000')); // 0x1000 = 4096
    c.onDispatch(dispatch('hex-reading', 'hexco', '4096'));
    const out = c.onReceipt(receipt('hexco', { text: 'id:4096 stat:DELIVRD' }));
    expect(finals(out).map((n) => n.hubMessageId)).toEqual(['hex-reading']);
  });
});

describe('Correlator: receipt before dispatch', () => {
  it('parks the receipt and applies it when the dispatch arrives', () => {
    const c = correlator();
    c.onEvent({ type: 'submitted', hubMessageId: 'm1', partsTotal: 1, time: T0 });
    const early = c.onReceipt(receipt('decco', { textId: '42', statText: 'DELIVRD', receivedAt: T0 + 10 }));
    expect(early).toEqual([{ type: 'parked', connectorId: 'decco', supplierMessageId: '42' }]);
    expect(c.size.parked).toBe(1);
    const out = c.onDispatch(dispatch('m1', 'decco', '0042', { time: T0 + 20 }));
    expect(finals(out)).toEqual([expect.objectContaining({ hubMessageId: 'm1', status: 'DELIVERED' })]);
    expect(c.size.parked).toBe(0);
  });

  it('applies a receipt parked twice (duplicate) only once when the dispatch arrives', () => {
    const c = correlator();
    const r = receipt('decco', { textId: '43', statText: 'UNDELIV', err: '012' });
    c.onReceipt(r);
    c.onReceipt(r);
    expect(c.size.parked).toBe(2);
    const out = c.onDispatch(dispatch('m1', 'decco', '43'));
    expect(finals(out)).toEqual([expect.objectContaining({ status: 'UNDELIVERABLE', err: '012' })]);
    expect(out.filter((o) => o.type === 'ignored')).toEqual([]);
    expect(c.size.parked).toBe(0);
  });

  it('retries parked receipts on sweep (e.g. after state was loaded from storage)', () => {
    const source = correlator();
    source.onDispatch(dispatch('m1', 'decco', '77'));
    const stored = source.snapshot('m1');
    if (stored === undefined) throw new Error('no snapshot');

    const c = correlator();
    c.onReceipt(receipt('decco', { textId: '77', statText: 'EXPIRED' }));
    c.load(stored);
    const out = c.sweep(T0 + 2_000);
    expect(finals(out)).toEqual([expect.objectContaining({ hubMessageId: 'm1', status: 'EXPIRED' })]);
  });

  it('emits a parked receipt as unmatched once the park TTL has passed, never dropping it', () => {
    const c = correlator();
    const r = receipt('decco', { textId: '99', statText: 'DELIVRD', raw: 'deadbeef', receivedAt: T0 });
    c.onReceipt(r);
    expect(c.sweep(T0 + 59_999).filter((o) => o.type === 'unmatched')).toEqual([]);
    const out = c.sweep(T0 + 60_000);
    expect(out).toEqual([
      expect.objectContaining({ type: 'unmatched', reason: 'park-expired', receipt: r, parkedAt: T0 }),
    ]);
    expect(c.size.parked).toBe(0);
    // a dispatch arriving later no longer matches (the receipt went to the dead-letter path)
    expect(finals(c.onDispatch(dispatch('m1', 'decco', '99')))).toEqual([]);
  });

  it('bounds the parking area: overflow emits the oldest as unmatched', () => {
    const c = correlator({ maxParked: 2 });
    c.onReceipt(receipt('decco', { textId: '1', statText: 'DELIVRD' }));
    c.onReceipt(receipt('decco', { textId: '2', statText: 'DELIVRD' }));
    const out = c.onReceipt(receipt('decco', { textId: '3', statText: 'DELIVRD' }));
    expect(out).toContainEqual(
      expect.objectContaining({
        type: 'unmatched',
        reason: 'overflow',
        normalised: expect.objectContaining({ supplierMessageId: '1' }),
      }),
    );
    expect(c.size.parked).toBe(2);
  });

  it('reports a receipt without any id as unmatched at once', () => {
    const out = correlator().onReceipt(receipt('decco', { text: 'stat:DELIVRD err:000' }));
    expect(out).toEqual([expect.objectContaining({ type: 'unmatched', reason: 'no-id' })]);
  });
});

describe('Correlator: duplicates, multi-part, lifecycle', () => {
  it('emits the final notification once for duplicated receipts', () => {
    const c = correlator();
    c.onDispatch(dispatch('m1', 'decco', '5'));
    const r = receipt('decco', { textId: '5', statText: 'DELIVRD', err: '000' });
    expect(finals(c.onReceipt(r))).toHaveLength(1);
    expect(c.onReceipt(r)).toEqual([]);
    expect(finals(c.onReceipt({ ...r, statText: 'UNDELIV' }))).toEqual([]);
    expect(c.snapshot('m1')?.status).toBe('DELIVERED');
  });

  it('aggregates parts dispatched under different supplier ids', () => {
    const c = correlator();
    c.onEvent({ type: 'submitted', hubMessageId: 'm1', partsTotal: 2, time: T0 });
    c.onDispatch(dispatch('m1', 'hexco', 'FF01', { partIndex: 0, partsTotal: 2 }));
    c.onDispatch(dispatch('m1', 'hexco', 'FF02', { partIndex: 1, partsTotal: 2 }));
    expect(finals(c.onReceipt(receipt('hexco', { tlvMessageId: 'ff02', tlvMessageState: 2 })))).toEqual([]);
    const out = c.onReceipt(receipt('hexco', { text: `id:${0xff01} stat:DELIVRD` }));
    expect(finals(out)).toEqual([expect.objectContaining({ status: 'DELIVERED', partsDelivered: 2 })]);
  });

  it('expires messages on sweep and evicts final ones after the retention time', () => {
    const c = correlator({ retainFinalMs: 10_000 });
    c.onEvent({ type: 'submitted', hubMessageId: 'm1', partsTotal: 1, time: T0, validUntil: T0 + 30_000 });
    c.onDispatch(dispatch('m1', 'decco', '8'));
    expect(finals(c.sweep(T0 + 29_999))).toEqual([]);
    const out = c.sweep(T0 + 30_000);
    expect(finals(out)).toEqual([expect.objectContaining({ status: 'EXPIRED', err: '009' })]);
    const evicted = c.sweep(T0 + 40_000);
    expect(evicted).toEqual([
      expect.objectContaining({
        type: 'evicted',
        state: expect.objectContaining({ hubMessageId: 'm1', status: 'EXPIRED' }),
      }),
    ]);
    expect(c.size).toEqual({ messages: 0, parked: 0, indexKeys: 0 });
  });

  it('caps the number of messages in memory, handing evicted state out for storage', () => {
    const c = correlator({ maxMessages: 3 });
    const evicted: string[] = [];
    for (let i = 0; i < 5; i++) {
      for (const o of c.onDispatch(dispatch(`m${i}`, 'decco', String(100 + i))))
        if (o.type === 'evicted') evicted.push(o.state.hubMessageId);
    }
    expect(evicted).toEqual(['m0', 'm1']);
    expect(c.size.messages).toBe(3);
    expect(c.size.indexKeys).toBe(3);
  });

  it('round-trips a snapshot through JSON', () => {
    const c = correlator();
    c.onEvent({ type: 'submitted', hubMessageId: 'm1', partsTotal: 1, time: T0 });
    c.onDispatch(dispatch('m1', 'hexco', '0A'));
    const json = JSON.stringify(c.snapshot('m1'));
    const other = correlator();
    other.load(JSON.parse(json));
    expect(
      finals(other.onReceipt(receipt('hexco', { tlvMessageId: '0a', tlvMessageState: 2 }))),
    ).toHaveLength(1);
  });
});

describe('service extensions', () => {
  it('reports which part a receipt joined (reportMatches)', () => {
    const c = correlator({ reportMatches: true });
    c.onDispatch(dispatch('m1', 'hexco', '0A1B2C'));
    const out = c.onReceipt(receipt('hexco', { text: 'id:662316 stat:DELIVRD err:000' }));
    expect(out[0]).toMatchObject({ type: 'matched', hubMessageId: 'm1', partIndex: 0 });
    expect(finals(out)).toHaveLength(1);
  });

  it('computes candidate keys and matches without recording id evidence', () => {
    const c = correlator();
    c.onDispatch(dispatch('m1', 'autoco', 'FF01'));
    const r = receipt('autoco', { tlvMessageId: 'ff01', text: 'id:65281 stat:DELIVRD err:000' });
    expect(c.candidateKeysOf(r)).toContain('n:65281');
    expect(c.match(r)).toEqual({ hubMessageId: 'm1', partIndex: 0 });
    expect(c.evidenceFor('autoco')).toEqual({ textDecimal: 0, textHex: 0 });
    expect(c.has('m1')).toBe(true);
  });

  it('leaves expiry to another stage when expire is false', () => {
    const c = correlator({ expire: false });
    c.onDispatch(dispatch('m1', 'decco', '42'));
    expect(finals(c.sweep(T0 + 10 * 3_600_000))).toEqual([]);
  });

  it('forgets final messages on forgetFinal and keeps those still waiting for a receipt', () => {
    const c = correlator({ reportMatches: true });
    c.onDispatch(dispatch('m1', 'decco', '5'));
    c.onDispatch(dispatch('m2', 'decco', '6'));
    c.onDispatch(dispatch('m3', 'decco', '7', { partsTotal: 2 }));
    c.onReceipt(receipt('decco', { textId: '5', statText: 'DELIVRD', err: '000' }));
    c.onReceipt(receipt('decco', { textId: '7', statText: 'DELIVRD', err: '000' }));
    expect(c.forgetFinal(['m1', 'm2', 'm3', 'unknown'])).toBe(1);
    expect([c.has('m1'), c.has('m2'), c.has('m3')]).toEqual([false, true, true]);
    expect(c.size.indexKeys).toBe(2); // m1's supplier id left the index with it
    // a duplicate receipt of m1 now matches nothing in memory (the service looks the dispatch up again)
    expect(c.match(receipt('decco', { textId: '5', statText: 'DELIVRD' }))).toBeUndefined();
    expect(c.match(receipt('decco', { textId: '6', statText: 'DELIVRD' }))).toEqual({
      hubMessageId: 'm2',
      partIndex: 0,
    });
  });

  it('forgets parked receipts on clearParked without reporting them', () => {
    const c = correlator({ parkTtlMs: 1 });
    c.onReceipt(receipt('decco', { text: 'id:77 stat:DELIVRD err:000' }));
    expect(c.size.parked).toBe(1);
    c.clearParked();
    expect(c.size.parked).toBe(0);
    expect(c.sweep(T0 + 60_000).filter((o) => o.type === 'unmatched')).toEqual([]);
  });
});
