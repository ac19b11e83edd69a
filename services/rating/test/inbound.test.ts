// Inbound messages (MO) are rated with the account's inbound rates (else its price plan's), on the
// subscriber's number, once per hub id; MT rates never price an MO and inbound rates never price an MT.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingRated, RatedStatus, SmsInbound } from '@smshub/contracts';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { ratingMetrics } from '../src/metrics.js';
import type { Rating } from '../src/rating.js';
import { NEW, accepted, context, createHarness, type Harness } from './harness.js';

let h: Harness & { db: { drop(): Promise<void> } };
let rating: Rating;
let noInbound = '';

function recordsFor(id: string): BillingRated[] {
  return h.rated.filter((r) => r.key === id).map((r) => BillingRated.decode(r.value));
}

async function cdrs(id: string): Promise<{ sell_minor: string; sell_rate_id: string; buy_minor: string }[]> {
  const r = await h.pool.query<{ sell_minor: string; sell_rate_id: string; buy_minor: string }>(
    `SELECT sell_minor::text, sell_rate_id, buy_minor::text FROM rating_cdrs WHERE hub_message_id = $1`,
    [id],
  );
  return r.rows;
}

async function skipped(reason: string): Promise<number> {
  const m = await ratingMetrics.skipped.get();
  return m.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

function mo(accountId: string, from: string, parts = 1, id = randomUUID()): SmsInbound {
  return SmsInbound.fromPartial({
    messageId: id,
    accountId,
    source: { ton: 1, npi: 1, address: from },
    destination: { ton: 1, npi: 1, address: '4915550001' },
    text: 'hello',
    parts,
    moIds: [id],
    connectorId: 'con_a',
    receivedAt: NEW,
    publishedAt: new Date(),
  });
}

/** Rating's inbound group has rated and committed every MO produced so far (then the records are out). */
async function inboundRated(): Promise<void> {
  await waitForGroupCommitted({ groupId: `${h.groupId}-inbound`, topic: h.topics.inbound.name });
}

beforeAll(async () => {
  h = await createHarness();
  noInbound = randomUUID();
  await h.pool.query(`INSERT INTO rating_price_plans (id, name) VALUES ('mtonly', 'MT only')`);
  await h.pool.query(
    `INSERT INTO accounts (id, system_id, password_hash, charge_on, billing_mode, credit_limit_minor, currency, price_plan_id)
     VALUES ($1, 'noin', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', 'submit', 'prepaid', 0, 'EUR', 'mtonly')`,
    [noInbound],
  );
  // accounts.submit: own MT rate 4930 (harness), own inbound rate 4917; plan std: MT 49/4917/FR (harness),
  // inbound 49, 44 and country FR. Plan mtonly: an MT rate for 49 and no inbound rate.
  await h.pool.query(
    `INSERT INTO rating_rates (id, owner_kind, owner_id, prefix, price_amount, currency, effective_from, inbound, country) VALUES
      ('acc-in-4917', 'account', $1, '4917', 20000, 'EUR', '2025-01-01', true, NULL),
      ('std-in-49',   'plan', 'std', '49', 30000, 'EUR', '2025-01-01', true, NULL),
      ('std-in-44',   'plan', 'std', '44', 70000, 'EUR', '2025-01-01', true, NULL),
      ('std-in-fr',   'plan', 'std', NULL, 60000, 'EUR', '2025-01-01', true, 'FR'),
      ('mtonly-49',   'plan', 'mtonly', '49', 40000, 'EUR', '2025-01-01', false, NULL)`,
    [h.accounts.submit],
  );
  rating = await h.startRating();
});

afterAll(async () => {
  await rating?.stop();
  await h?.close();
});

describe('rating of inbound messages (sms.inbound.v1)', () => {
  it("prices an MO with the account's inbound rate on the subscriber's number, once, and charges the prepaid balance", async () => {
    const a = h.accounts.submit;
    const own = mo(a, '+4917612345678', 2);
    const plan = mo(a, '493012345'); // the account's MT rate 4930 must not apply: the plan's inbound 49 does
    await h.producer.produce(h.topics.inbound, own);
    await h.producer.produce(h.topics.inbound, plan);

    const rec = await waitFor(() => recordsFor(own.messageId)[0], {
      what: 'the MO record',
      timeoutMs: 30_000,
    });
    expect(rec).toMatchObject({
      messageId: own.messageId,
      accountId: a,
      connectorId: '',
      segments: 2,
      sell: { currencyCode: 'EUR', minorUnits: 4n, scale: 2 }, // 2 x 0.02 EUR
      buy: { currencyCode: 'EUR', minorUnits: 0n, scale: 2 },
      status: RatedStatus.RATED_STATUS_CHARGED,
      sellRateId: 'acc-in-4917',
      buyRateId: '',
      deliveryStatus: 'DELIVERY_STATUS_DELIVERED',
      submittedAt: NEW,
    });
    const recPlan = await waitFor(() => recordsFor(plan.messageId)[0], { what: 'the plan-priced MO record' });
    expect(recPlan.sellRateId).toBe('std-in-49');
    expect(recPlan.sell?.minorUnits).toBe(3n);

    // no prefix rate for +33: the country of the subscriber's number (FR) picks the plan's country rate
    const fr = mo(a, '+33612345678');
    await h.producer.produce(h.topics.inbound, fr);
    const recFr = await waitFor(() => recordsFor(fr.messageId)[0], { what: 'the FR MO record' });
    expect(recFr.sellRateId).toBe('std-in-fr');
    expect(recFr.sell?.minorUnits).toBe(6n);

    // the prepaid balance is charged for MO as for MT: one ledger entry per MO
    const ledger = await h.pool.query<{ amount: string }>(
      'SELECT amount_minor::text AS amount FROM rating_balance_ledger WHERE hub_message_id = ANY($1::uuid[]) ORDER BY amount_minor',
      [[own.messageId, plan.messageId]],
    );
    expect(ledger.rows.map((r) => r.amount)).toEqual(['-4', '-3']);

    // a re-read (the same records again) changes nothing: one CDR, one record, one charge
    await h.producer.produce(h.topics.inbound, own);
    await h.producer.produce(h.topics.inbound, plan);
    await inboundRated();
    await waitForGroupCommitted({ groupId: h.ratedReaderGroup, topic: h.topics.rated.name });
    for (const m of [own, plan]) {
      expect(await cdrs(m.messageId)).toHaveLength(1);
      expect(recordsFor(m.messageId)).toHaveLength(1);
    }
    const again = await h.pool.query(
      'SELECT 1 FROM rating_balance_ledger WHERE hub_message_id = ANY($1::uuid[])',
      [[own.messageId, plan.messageId]],
    );
    expect(again.rows).toHaveLength(2);
  });

  it('does not rate an MO of an account without an inbound rate (an MT rate never prices an MO)', async () => {
    const before = await skipped('no-inbound-rate');
    const free = mo(noInbound, '4917612345678');
    await h.producer.produce(h.topics.inbound, free);
    await inboundRated();
    await waitForGroupCommitted({ groupId: h.ratedReaderGroup, topic: h.topics.rated.name });
    expect(await cdrs(free.messageId)).toHaveLength(0);
    expect(recordsFor(free.messageId)).toHaveLength(0);
    expect(await skipped('no-inbound-rate')).toBe(before + 1);
  });

  it('never prices an MT with an inbound rate', async () => {
    // plan std has an inbound rate for 44 and no MT rate there: the MT has no sell rate
    const ctx = context(h.accounts.submit, '447700900123', NEW, { country: 'GB' });
    await h.producer.produce(h.topics.dispatched, accepted(ctx));
    const rec = await waitFor(() => recordsFor(ctx.messageId)[0], {
      what: 'the MT record',
      timeoutMs: 30_000,
    });
    expect(rec.status).toBe(RatedStatus.RATED_STATUS_MISSING_RATE);
    expect(rec.sellRateId).toBe('');
    expect(rec.sell?.minorUnits).toBe(0n);
    // and an MT to 4917 still takes the account's MT rate path (plan std 4917), not the inbound 4917
    const de = context(h.accounts.submit, '4917612340001', NEW, { country: 'DE' });
    await h.producer.produce(h.topics.dispatched, accepted(de));
    const recDe = await waitFor(() => recordsFor(de.messageId)[0], { what: 'the MT record to 4917' });
    expect(recDe.sellRateId).toBe('std-4917');
  });
});
