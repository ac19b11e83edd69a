import { describe, expect, it } from 'vitest';
import { FxTable } from './fx.js';
import { parsePrice } from './money.js';
import { priceOutcome, type RatingContext } from './pricing.js';
import { RateIndex } from './rates.js';
import { csvField, periodKey, reconcile, settle, toCsv, type SettlementRow } from './settlement.js';
import type { Outcome, RatedRecord } from './types.js';

const NOV_30_LATE = Date.UTC(2026, 10, 30, 23, 59, 59, 999);
const DEC_1 = Date.UTC(2026, 11, 1);

const ctx: RatingContext = {
  rates: new RateIndex([
    {
      rateId: 's-de',
      owner: { kind: 'plan', id: 'p' },
      match: { kind: 'country', country: 'DE' },
      price: parsePrice('0.0125', 'EUR'),
      effectiveFrom: 0,
    },
    {
      rateId: 's-jp',
      owner: { kind: 'plan', id: 'p' },
      match: { kind: 'prefix', prefix: '81' },
      price: parsePrice('0.07', 'EUR'),
      effectiveFrom: 0,
    },
    {
      rateId: 'b-de',
      owner: { kind: 'connector', id: 'sup-a' },
      match: { kind: 'prefix', prefix: '49' },
      price: parsePrice('0.0081', 'EUR'),
      effectiveFrom: 0,
    },
    {
      rateId: 'b-jp',
      owner: { kind: 'connector', id: 'sup-a' },
      match: { kind: 'prefix', prefix: '81' },
      price: parsePrice('6', 'JPY'),
      effectiveFrom: 0,
    },
  ]),
  fx: new FxTable([{ id: 'fx', from: 'EUR', to: 'JPY', rate: '160', effectiveFrom: 0 }]),
  account: { accountId: 'acme', planId: 'p', currency: 'EUR', chargeOn: 'submit' },
  supplier: { connectorId: 'sup-a', buyChargeOn: 'submit' },
};

let n = 0;
function rec(outcome: Outcome, at: number, segments: number, dest: 'DE' | 'JP'): RatedRecord {
  const destination =
    dest === 'DE'
      ? { msisdn: '4917612345678', country: 'DE', mccMnc: '26203' }
      : { msisdn: '819012345678', country: 'JP', mccMnc: '44010' };
  return priceOutcome(
    {
      hubMessageId: `h${++n}`,
      accountId: 'acme',
      connectorId: 'sup-a',
      destination,
      segments,
      outcome,
      submitTime: at - 1_000,
      eventTime: at,
    },
    ctx,
  );
}

const records: RatedRecord[] = [
  rec('SUBMITTED', NOV_30_LATE, 1, 'DE'),
  rec('DELIVERED', NOV_30_LATE, 3, 'DE'),
  rec('UNDELIVERABLE', DEC_1, 2, 'DE'),
  rec('SUBMITTED', DEC_1 + 3_600_000, 1, 'JP'),
  rec('REJECTED_HUB', DEC_1, 1, 'DE'), // not charged: not in settlement
];

describe('periodKey', () => {
  it('uses UTC calendar days and months', () => {
    expect(periodKey(NOV_30_LATE, 'day')).toBe('2026-11-30');
    expect(periodKey(DEC_1, 'day')).toBe('2026-12-01');
    expect(periodKey(NOV_30_LATE, 'month')).toBe('2026-11');
  });
});

describe('settle', () => {
  it('totals customer charges per day and destination, matching the records', () => {
    const rows = settle(records, { party: 'customer', period: 'day' });
    expect(rows).toEqual([
      {
        period: '2026-11-30',
        partyId: 'acme',
        country: 'DE',
        mccMnc: '26203',
        currency: 'EUR',
        messages: 2,
        segments: 4,
        amountMinor: 1n + 4n,
      },
      {
        period: '2026-12-01',
        partyId: 'acme',
        country: 'DE',
        mccMnc: '26203',
        currency: 'EUR',
        messages: 1,
        segments: 2,
        amountMinor: 2n,
      },
      {
        period: '2026-12-01',
        partyId: 'acme',
        country: 'JP',
        mccMnc: '44010',
        currency: 'EUR',
        messages: 1,
        segments: 1,
        amountMinor: 7n,
      },
    ]);
    const charged = records.filter((r) => r.sell.charged);
    expect(rows.reduce((a, r) => a + r.amountMinor, 0n)).toBe(
      charged.reduce((a, r) => a + r.sell.amountMinor, 0n),
    );
    expect(rows.reduce((a, r) => a + r.messages, 0)).toBe(charged.length);
  });

  it('totals supplier costs per month in each supplier currency', () => {
    const rows = settle(records, { party: 'supplier', period: 'month' });
    expect(rows.map((r) => [r.period, r.partyId, r.country, r.currency, r.messages, r.amountMinor])).toEqual([
      ['2026-11', 'sup-a', 'DE', 'EUR', 2, 1n + 2n], // 0.0081 -> 1 cent; 0.0243 -> 2 cents
      ['2026-12', 'sup-a', 'DE', 'EUR', 1, 2n], // 0.0162 -> 2 cents
      ['2026-12', 'sup-a', 'JP', 'JPY', 1, 6n],
    ]);
  });
});

describe('CSV', () => {
  it('writes a header, CRLF lines and decimal amounts with the currency exponent', () => {
    const rows = settle(records, { party: 'supplier', period: 'month' });
    expect(toCsv(rows)).toBe(
      'period,party_id,country,mcc_mnc,currency,messages,segments,amount\r\n' +
        '2026-11,sup-a,DE,26203,EUR,2,4,0.03\r\n' +
        '2026-12,sup-a,DE,26203,EUR,1,2,0.02\r\n' +
        '2026-12,sup-a,JP,44010,JPY,1,1,6\r\n',
    );
  });

  it('quotes fields per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    const row: SettlementRow = {
      period: '2026-12',
      partyId: 'Acme, "Ltd"',
      country: '',
      mccMnc: '',
      currency: 'EUR',
      messages: 1,
      segments: 1,
      amountMinor: -5n,
    };
    expect(toCsv([row]).split('\r\n')[1]).toBe('2026-12,"Acme, ""Ltd""",,,EUR,1,1,-0.05');
  });
});

describe('reconcile', () => {
  it('agrees when CDR and topic totals are the same', () => {
    const rows = settle(records, { party: 'customer', period: 'day' });
    expect(reconcile(rows, structuredClone(rows))).toEqual([]);
  });

  it('reports missing rows and different counts or amounts', () => {
    const topic = settle(records, { party: 'customer', period: 'day' });
    // the CDR store lost the JP record and double-counted one DE message on Nov 30
    const cdr = settle(records.filter((r) => r.country !== 'JP').concat([records[1] as RatedRecord]), {
      party: 'customer',
      period: 'day',
    });
    const m = reconcile(cdr, topic);
    expect(m.map((x) => [x.period, x.country, x.kind, x.fields])).toEqual([
      ['2026-11-30', 'DE', 'different', ['messages', 'segments', 'amount']],
      ['2026-12-01', 'JP', 'missing-in-cdr', []],
    ]);
    expect(reconcile(topic, cdr).find((x) => x.country === 'JP')?.kind).toBe('missing-in-topic');
  });
});
