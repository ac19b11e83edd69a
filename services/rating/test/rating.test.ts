import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { bearerInterceptor } from '@smshub/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountBalance,
  BillingMode,
  BillingRated,
  DeliveryStatus,
  RatedStatus,
  SettlementParty,
  SettlementPeriod,
  SettlementServiceClient,
  type CheckReconciliationResponse,
  type GetTotalsResponse,
  type SettlementQuery,
} from '@smshub/contracts';
import { uniqueName, waitFor, waitForGroupCommitted } from '@smshub/testing';
import { settle, toCsv, type SettlementRow } from '../src/domain/settlement.js';
import type { RatedRecord } from '../src/domain/types.js';
import { CLAIM_UNPUBLISHED, publishUnpublished, writeCdrs, type CdrRow } from '../src/cdr-store.js';
import { ratingMetrics } from '../src/metrics.js';
import type { Rating } from '../src/rating.js';
import {
  ADMIN_TOKEN,
  NEW,
  OLD,
  accepted,
  context,
  createHarness,
  finalDelivery,
  type Harness,
} from './harness.js';

let h: Harness & { db: { drop(): Promise<void> } };
let rating: Rating;

function recordsFor(id: string): BillingRated[] {
  return h.rated.filter((r) => r.key === id).map((r) => BillingRated.decode(r.value));
}

async function ratedRecord(id: string): Promise<BillingRated> {
  return waitFor(() => recordsFor(id)[0], { what: `the rated record of ${id}`, timeoutMs: 20_000 });
}

async function alreadyRated(): Promise<number> {
  const m = await ratingMetrics.skipped.get();
  return m.values.find((v) => v.labels.reason === 'already-rated')?.value ?? 0;
}

async function cdrCount(id: string): Promise<number> {
  const r = await h.pool.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM rating_cdrs WHERE hub_message_id = $1',
    [id],
  );
  return Number(r.rows[0]!.n);
}

/** Kafka acknowledged the CDR's record: the CDR is no longer in rating_cdrs_unpublished. */
async function isPublished(id: string): Promise<boolean> {
  const r = await h.pool.query('SELECT 1 FROM rating_cdrs_unpublished WHERE hub_message_id = $1', [id]);
  return r.rows.length === 0 && (await cdrCount(id)) === 1;
}

/** Waits until every rating group in `groups` has rated (and committed) every event produced so far. */
async function eventsRated(groups: string[]): Promise<void> {
  for (const groupId of groups)
    for (const topic of [h.topics.dispatched.name, h.topics.delivery.name])
      await waitForGroupCommitted({ groupId, topic });
}

/**
 * Produces the dispatch and the final receipt of 60 new submit-billed messages (numbers starting with
 * `prefix`) at once, and checks that billing.rated.v1 gets exactly one record for each, once every
 * instance (`groups`) has rated both events of every message and the reader has read what they published.
 */
async function expectOneRecordEach(prefix: string, groups: string[] = [h.groupId]): Promise<void> {
  const before = h.rated.length;
  const batch = Array.from({ length: 60 }, (_, i) => {
    const id = randomUUID();
    return {
      id,
      ctx: context(h.accounts.submit, `${prefix}${String(100000 + i)}`, NEW, { country: 'DE' }, id),
    };
  });
  await Promise.all(
    batch.flatMap(({ ctx }) => [
      h.producer.produce(h.topics.dispatched, accepted(ctx)),
      h.producer.produce(h.topics.delivery, finalDelivery(ctx, DeliveryStatus.DELIVERY_STATUS_DELIVERED)),
    ]),
  );
  await waitFor(() => batch.every(({ id }) => recordsFor(id).length > 0), {
    what: 'a rated record for every message',
    timeoutMs: 30_000,
  });
  await waitFor(async () => (await h.pool.query('SELECT 1 FROM rating_cdrs_unpublished')).rows.length === 0, {
    what: 'every CDR marked published',
    timeoutMs: 20_000,
  });
  // A group commits an event only after rating it and publishing what it rated: once every group has
  // committed both events of every message, every record there will be is on the topic, and once the
  // reader has committed up to the topic's end then, it holds them all.
  await eventsRated(groups);
  await waitForGroupCommitted({ groupId: h.ratedReaderGroup, topic: h.topics.rated.name });
  for (const { id } of batch) expect(recordsFor(id)).toHaveLength(1);
  expect(h.rated.length - before).toBe(batch.length);
}

// The messages of the scenario (filled in the first test, reused by later ones).
const ids = {
  submitLong: '', // submit-billed, 4917 (longer prefix), 1 segment
  deliveryNew: '', // delivery-billed, 4930 after the price change, 3 segments
  deliveryOld: '', // delivery-billed, 4930 before the price change, 2 segments (tie -> even)
  usd: '', // USD account, EUR rate converted
  missing: '', // no sell rate (China)
  rejected: '', // rejected by the hub
  ownRate: '', // account's own rate overrides the plan
};

beforeAll(async () => {
  h = await createHarness();
  await rating_start();
});

async function rating_start(): Promise<void> {
  rating = await h.startRating();
}

afterAll(async () => {
  await rating?.stop();
  await h?.close();
});

describe('rating end to end (Kafka -> CDRs -> billing.rated.v1)', () => {
  it('selects the price by prefix, date, currency and segments', async () => {
    const a = h.accounts;
    const cSubmitLong = context(a.submit, '4917612345678', NEW, { country: 'DE' });
    const cOwn = context(a.submit, '493012345', NEW, { country: 'DE' });
    const cDelivNew = context(a.delivery, '493012345', NEW, { country: 'DE' });
    const cDelivOld = context(a.delivery, '493012346', OLD, { country: 'DE' });
    const cUsd = context(a.usd, '4917600000', NEW, { country: 'DE' });
    const cMissing = context(a.submit, '8613800000000', NEW, { country: 'CN' });
    const cRejected = context(a.submit, '4917611111111', NEW, { country: 'DE' });
    Object.assign(ids, {
      submitLong: cSubmitLong.messageId,
      ownRate: cOwn.messageId,
      deliveryNew: cDelivNew.messageId,
      deliveryOld: cDelivOld.messageId,
      usd: cUsd.messageId,
      missing: cMissing.messageId,
      rejected: cRejected.messageId,
    });
    await Promise.all([
      h.producer.produce(h.topics.dispatched, accepted(cSubmitLong)),
      h.producer.produce(h.topics.dispatched, accepted(cOwn)),
      h.producer.produce(h.topics.dispatched, accepted(cUsd)),
      h.producer.produce(h.topics.dispatched, accepted(cMissing)),
      // delivery-billed account: the accepted dispatch is not billable yet, the final delivery is
      h.producer.produce(h.topics.dispatched, accepted(cDelivNew)),
      h.producer.produce(
        h.topics.delivery,
        finalDelivery(cDelivNew, DeliveryStatus.DELIVERY_STATUS_DELIVERED, { segments: 3 }),
      ),
      h.producer.produce(
        h.topics.delivery,
        finalDelivery(cDelivOld, DeliveryStatus.DELIVERY_STATUS_DELIVERED, { segments: 2 }),
      ),
      h.producer.produce(
        h.topics.delivery,
        finalDelivery(cRejected, DeliveryStatus.DELIVERY_STATUS_REJECTED, { accepted: false }),
      ),
    ]);

    const long = await ratedRecord(ids.submitLong);
    expect(long).toMatchObject({
      messageId: ids.submitLong,
      revision: 1,
      accountId: a.submit,
      connectorId: 'con_a',
      supplierId: 'sup_1',
      destinationCountry: 'DE',
      segments: 1,
      status: RatedStatus.RATED_STATUS_CHARGED,
      sellRateId: 'std-4917', // longer prefix wins over "49"
      buyRateId: 'buy-49',
      deliveryStatus: 'DELIVERY_STATUS_ACCEPTED',
    });
    expect(long.sell).toEqual({ currencyCode: 'EUR', minorUnits: 3n, scale: 2 }); // 0.03
    expect(long.buy).toEqual({ currencyCode: 'EUR', minorUnits: 1n, scale: 2 }); // 0.008 -> 1 cent
    expect(long.margin).toEqual({ currencyCode: 'EUR', minorUnits: 2n, scale: 2 });
    expect(long.doneAt).toBeUndefined();

    const own = await ratedRecord(ids.ownRate);
    expect(own.sellRateId).toBe('acc-49-own'); // the account's own rate overrides the plan
    expect(own.sell?.minorUnits).toBe(1n); // 0.011 -> 1 cent

    const dNew = await ratedRecord(ids.deliveryNew);
    expect(dNew.sellRateId).toBe('std-49-new');
    expect(dNew.segments).toBe(3);
    expect(dNew.sell?.minorUnits).toBe(6n); // 3 x 0.02
    expect(dNew.buy?.minorUnits).toBe(2n); // 3 x 0.008 = 0.024
    expect(dNew.deliveryStatus).toBe('DELIVERY_STATUS_DELIVERED');
    expect(dNew.doneAt).toBeInstanceOf(Date);

    const dOld = await ratedRecord(ids.deliveryOld);
    expect(dOld.sellRateId).toBe('std-49-old'); // the rate valid at submit time
    expect(dOld.sell?.minorUnits).toBe(2n); // 2 x 0.0125 = 0.025 -> 2 (half to even)

    const usd = await ratedRecord(ids.usd);
    expect(usd.sell).toEqual({ currencyCode: 'USD', minorUnits: 3n, scale: 2 }); // 0.03 EUR x 1.10 = 0.033 USD
    expect(usd.buy).toEqual({ currencyCode: 'EUR', minorUnits: 1n, scale: 2 }); // supplier currency
    expect(usd.buyInSellCurrency).toEqual({ currencyCode: 'USD', minorUnits: 1n, scale: 2 }); // 0.0088 USD
    expect(usd.fxRate).toBe('1.1');
    expect(usd.margin?.minorUnits).toBe(2n);

    const missing = await ratedRecord(ids.missing);
    expect(missing.status).toBe(RatedStatus.RATED_STATUS_MISSING_RATE);
    expect(missing.sell?.minorUnits).toBe(0n);
    expect(missing.sellRateId).toBe('');
    expect(missing.margin).toBeUndefined();

    const rejected = await ratedRecord(ids.rejected);
    expect(rejected.status).toBe(RatedStatus.RATED_STATUS_NOT_CHARGED);
    expect(rejected.sell?.minorUnits).toBe(0n);
    expect(rejected.connectorId).toBe('');

    // one record per message, one CDR per message
    for (const id of Object.values(ids)) {
      expect(recordsFor(id)).toHaveLength(1);
      expect(await cdrCount(id)).toBe(1);
    }
  });

  it('never bills twice: redelivered events and a restarted consumer give one CDR and identical records', async () => {
    const before = h.rated.length;
    const skippedBefore = await alreadyRated();
    const a = h.accounts;
    // the same events again (as after a consumer restart without committed offsets)
    const cSubmitLong = context(a.submit, '4917612345678', NEW, { country: 'DE' }, ids.submitLong);
    const cDelivNew = context(a.delivery, '493012345', NEW, { country: 'DE' }, ids.deliveryNew);
    await h.producer.produce(h.topics.dispatched, accepted(cSubmitLong));
    await h.producer.produce(
      h.topics.delivery,
      finalDelivery(cSubmitLong, DeliveryStatus.DELIVERY_STATUS_DELIVERED),
    );
    await h.producer.produce(
      h.topics.delivery,
      finalDelivery(cDelivNew, DeliveryStatus.DELIVERY_STATUS_DELIVERED, { segments: 3 }),
    );
    // they were consumed when the CDR writer has seen all three messages as already rated
    await waitFor(async () => (await alreadyRated()) >= skippedBefore + 3, {
      what: 'the redelivered events to be consumed',
      timeoutMs: 20_000,
    });
    // A crash after Kafka's ack but before the CDR was marked published: the record is on the topic.
    await h.pool.query(
      `INSERT INTO rating_cdrs_unpublished (hub_message_id, rated_at)
       SELECT hub_message_id, rated_at FROM rating_cdrs WHERE hub_message_id = $1`,
      [ids.deliveryOld],
    );
    await rating.stop();
    // A crash between the CDR's commit and Kafka's ack: a CDR whose record never reached the topic.
    const lost = randomUUID();
    const lostRecord = Buffer.from(
      h.topics.rated.encode(
        BillingRated.fromPartial({
          messageId: lost,
          accountId: a.delivery,
          segments: 1,
          // as the CDR row below says, so the settlement test's reconciliation still matches
          sell: { currencyCode: 'EUR', minorUnits: 5n, scale: 2 },
          buy: { currencyCode: 'EUR', minorUnits: 1n, scale: 2 },
          ratedAt: new Date(),
        }),
      ),
    );
    await h.pool.query(
      `WITH cdr AS (
         INSERT INTO rating_cdrs (hub_message_id, account_id, segments, outcome, status, billed_on, sell_minor,
           sell_currency, sell_charged, buy_minor, buy_currency, buy_charged, submitted_at, rated_at, record)
         VALUES ($1, $2, 1, 'DELIVERED', 'RATED_STATUS_CHARGED', 'final', 5, 'EUR', true, 1, 'EUR', true, now(), now(), $3)
         RETURNING hub_message_id, rated_at)
       INSERT INTO rating_cdrs_unpublished SELECT * FROM cdr`,
      [lost, a.delivery, lostRecord],
    );
    rating = await h.startRating(); // same consumer group: a restart
    // the restart read the topic back: the record already there is not published a second time
    expect(await isPublished(ids.deliveryOld)).toBe(true);
    const cDelivOld = context(a.delivery, '493012346', OLD, { country: 'DE' }, ids.deliveryOld);
    await h.producer.produce(
      h.topics.delivery,
      finalDelivery(cDelivOld, DeliveryStatus.DELIVERY_STATUS_DELIVERED, { segments: 2 }),
    );
    // the CDR whose record never reached the topic is published, with its stored bytes, at the restart
    // (its next event then finds it published)
    const cLost = context(a.delivery, '493012347', OLD, { country: 'DE' }, lost);
    await h.producer.produce(
      h.topics.delivery,
      finalDelivery(cLost, DeliveryStatus.DELIVERY_STATUS_DELIVERED),
    );
    await waitFor(() => recordsFor(lost).length === 1, {
      what: 'the never-published record',
      timeoutMs: 20_000,
    });

    for (const id of [ids.submitLong, ids.deliveryNew, ids.deliveryOld]) expect(await cdrCount(id)).toBe(1);
    // exactly one record per message on the topic
    expect(recordsFor(ids.submitLong)).toHaveLength(1);
    expect(recordsFor(ids.deliveryNew)).toHaveLength(1);
    expect(recordsFor(ids.deliveryOld)).toHaveLength(1);
    const copies = h.rated.filter((r) => r.key === lost).map((r) => r.value.toString('hex'));
    expect(copies).toEqual([lostRecord.toString('hex')]);
    expect(await isPublished(lost)).toBe(true);
    // only the never-published record is new on the topic
    expect(h.rated.length - before).toBe(1);
  });

  it('publishes at start-up, exactly once, the CDRs whose records never reached Kafka, without a new event for them', async () => {
    await rating.stop();
    const before = h.rated.length;
    // Three CDRs committed by a process that stopped before Kafka acknowledged their records.
    const lost = [randomUUID(), randomUUID(), randomUUID()];
    const bytes = new Map<string, Buffer>();
    for (const id of lost) {
      const record = Buffer.from(
        h.topics.rated.encode(
          BillingRated.fromPartial({
            messageId: id,
            accountId: h.accounts.delivery,
            segments: 1,
            sell: { currencyCode: 'EUR', minorUnits: 5n, scale: 2 },
            buy: { currencyCode: 'EUR', minorUnits: 1n, scale: 2 },
            ratedAt: new Date(),
          }),
        ),
      );
      bytes.set(id, record);
      await h.pool.query(
        `WITH cdr AS (
           INSERT INTO rating_cdrs (hub_message_id, account_id, segments, outcome, status, billed_on, sell_minor,
             sell_currency, sell_charged, buy_minor, buy_currency, buy_charged, submitted_at, rated_at, record)
           VALUES ($1, $2, 1, 'DELIVERED', 'RATED_STATUS_CHARGED', 'final', 5, 'EUR', true, 1, 'EUR', true, now(), now(), $3)
           RETURNING hub_message_id, rated_at)
         INSERT INTO rating_cdrs_unpublished SELECT * FROM cdr`,
        [id, h.accounts.delivery, record],
      );
    }
    // Two replicas start at once (a rollout): both look for leftovers, the row lock lets one publish each.
    const [first, second] = await Promise.all([h.startRating(), h.startRating()]);
    rating = first;
    try {
      await waitFor(() => lost.every((id) => recordsFor(id).length > 0), {
        what: 'the leftover records on billing.rated.v1',
        timeoutMs: 20_000,
      });
      for (const id of lost) expect(await isPublished(id)).toBe(true);
      // Both replicas finished starting (their start-up publication is done): once the reader has read to
      // the topic's end, it holds every copy there is.
      await waitForGroupCommitted({ groupId: h.ratedReaderGroup, topic: h.topics.rated.name });
      for (const id of lost) {
        const copies = h.rated.filter((r) => r.key === id).map((r) => r.value.toString('hex'));
        expect(copies).toEqual([bytes.get(id)!.toString('hex')]);
      }
      expect(h.rated.length - before).toBe(lost.length);
    } finally {
      await second.stop();
    }
  });

  it('publishes one record per message when its two billable events (dispatch, final receipt) are rated at once', async () => {
    // The dispatch and the final receipt of each message are on two topics, so two partitions' batches
    // rate them concurrently; the second finds the CDR the first is still publishing.
    await expectOneRecordEach('491761');
  });

  it('publishes one record per message when two replicas rate the same events at once', async () => {
    // A second instance in another group sees every event too, as two replicas do for a moment when a
    // rebalance hands a partition over: the CDR's row lock lets only one of them publish.
    const otherGroup = uniqueName('smshub-rating-other');
    const second = await h.startRating(otherGroup);
    try {
      // The second group starts from the beginning: let it work through the earlier tests' events (each
      // already rated) first, so that both instances take the new ones at the same time.
      await eventsRated([otherGroup]);
      await expectOneRecordEach('491762', [h.groupId, otherGroup]);
    } finally {
      await second.stop();
    }
  });

  it('publishUnpublished: a failed publish leaves the CDR unpublished and passes the Kafka error on as it is', async () => {
    const id = randomUUID();
    await h.pool.query(
      `WITH cdr AS (
         INSERT INTO rating_cdrs (hub_message_id, account_id, segments, outcome, status, billed_on, sell_minor,
           sell_currency, sell_charged, buy_minor, buy_currency, buy_charged, submitted_at, rated_at, record)
         VALUES ($1, $2, 1, 'DELIVERED', 'RATED_STATUS_CHARGED', 'final', 0, 'EUR', false, 0, 'EUR', false, now(), now(), '')
         RETURNING hub_message_id, rated_at)
       INSERT INTO rating_cdrs_unpublished SELECT * FROM cdr`,
      [id, h.accounts.delivery],
    );
    const kafkaError = Object.assign(new Error('The broker received an out of order sequence number'), {
      retriable: true,
    });
    await expect(publishUnpublished(h.pool, [id], () => Promise.reject(kafkaError))).rejects.toBe(kafkaError);
    expect(await isPublished(id)).toBe(false);
    const published: string[] = [];
    expect(
      await publishUnpublished(h.pool, [id], async (claimed) => void published.push(...claimed)),
    ).toEqual(new Set([id]));
    expect(published).toEqual([id]);
    expect(await isPublished(id)).toBe(true);
    // Already published: nobody publishes it again.
    expect(await publishUnpublished(h.pool, [id], () => Promise.reject(new Error('not called')))).toEqual(
      new Set(),
    );
    await h.pool.query('DELETE FROM rating_cdrs WHERE hub_message_id = $1', [id]);
  });

  it('publishUnpublished after autoanalyze saw the table empty: concurrent claims publish each CDR once, skip a row locked elsewhere, and lock once per claim', async () => {
    // The state that made the former claim a nested loop re-running its lock for every live row (R4,
    // session 14): statistics taken while the table was empty (reltuples = 0), then rows and dead rows.
    const churn = Array.from({ length: 2000 }, () => randomUUID());
    await h.pool.query(`INSERT INTO rating_cdrs_unpublished SELECT id, now() FROM unnest($1::uuid[]) AS id`, [
      churn,
    ]);
    await h.pool.query('DELETE FROM rating_cdrs_unpublished WHERE hub_message_id = ANY($1::uuid[])', [churn]);
    await h.pool.query('ANALYZE rating_cdrs_unpublished');
    const ids = Array.from({ length: 300 }, () => randomUUID());
    await h.pool.query(`INSERT INTO rating_cdrs_unpublished SELECT id, now() FROM unnest($1::uuid[]) AS id`, [
      ids,
    ]);
    const held = ids.slice(0, 10);
    const holder = await h.pool.connect();
    try {
      // Another publication holding ten of the rows (its Kafka produce still pending).
      await holder.query('BEGIN');
      await holder.query(
        'SELECT 1 FROM rating_cdrs_unpublished WHERE hub_message_id = ANY($1::uuid[]) FOR UPDATE',
        [held],
      );
      // The claim's plan under these statistics: the lock runs once, not once per row of the table.
      const plan = await h.pool.connect();
      try {
        await plan.query('BEGIN');
        const { rows } = await plan.query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${CLAIM_UNPUBLISHED}`,
          [`{${ids.slice(10, 160).join(',')}}`],
        );
        const lockLoops: number[] = [];
        const walk = (n: Record<string, unknown>): void => {
          if (n['Node Type'] === 'LockRows') lockLoops.push(n['Actual Loops'] as number);
          for (const c of (n['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(c);
        };
        walk((rows[0]!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
        expect(lockLoops).toEqual([1]);
      } finally {
        await plan.query('ROLLBACK');
        plan.release();
      }
      // Two publications of overlapping sets at once: every free row goes to exactly one of them.
      const published: string[] = [];
      const claims = await Promise.all([
        publishUnpublished(h.pool, ids.slice(0, 200), async (c) => void published.push(...c)),
        publishUnpublished(h.pool, ids.slice(100), async (c) => void published.push(...c)),
      ]);
      expect(published.length).toBe(290);
      expect(new Set(published)).toEqual(new Set(ids.slice(10)));
      expect(claims[0]!.size + claims[1]!.size).toBe(290);
      const left = await h.pool.query<{ id: string }>(
        'SELECT hub_message_id::text AS id FROM rating_cdrs_unpublished WHERE hub_message_id = ANY($1::uuid[])',
        [ids],
      );
      expect(new Set(left.rows.map((r) => r.id))).toEqual(new Set(held));
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    // Released: the held rows are published by the next claim, once.
    expect(await publishUnpublished(h.pool, held, async () => undefined)).toEqual(new Set(held));
    expect(await publishUnpublished(h.pool, held, () => Promise.reject(new Error('not called')))).toEqual(
      new Set(),
    );
  });

  it("writeCdrs: a debit in a currency other than the balance's writes nothing of the batch and names the account", async () => {
    const usdBalance = `acct-${randomUUID()}`;
    const other = `acct-${randomUUID()}`;
    await h.pool.query(
      `INSERT INTO rating_balances (account_id, currency, balance_minor, revision) VALUES ($1, 'USD', 100, 1)`,
      [usdBalance],
    );
    const row = (accountId: string): CdrRow => ({
      hubMessageId: randomUUID(),
      accountId,
      connectorId: 'con_a',
      supplierId: 'sup_1',
      country: 'DE',
      mccMnc: '',
      segments: 1,
      outcome: 'SUBMITTED',
      status: 'RATED_STATUS_CHARGED',
      billedOn: 'submit',
      sellMinor: 5n,
      sellCurrency: 'EUR',
      sellCharged: true,
      sellRateId: 's1',
      buyMinor: 2n,
      buyCurrency: 'EUR',
      buyCharged: true,
      buyRateId: 'b1',
      marginMinor: 3n,
      submittedAt: new Date(),
      ratedAt: new Date(),
      record: Buffer.from([1, 2, 3]),
      debitMinor: 5n,
    });
    const rows = [row(other), row(usdBalance)];
    const err = await writeCdrs(h.pool, rows).catch((e: unknown) => e);
    expect(err).toMatchObject({ retriable: false });
    expect((err as Error).message).toContain(
      `balance currency differs from the account currency for ${usdBalance}`,
    );
    for (const r of rows) expect(await cdrCount(r.hubMessageId)).toBe(0);
    const ledger = await h.pool.query(
      'SELECT 1 FROM rating_balance_ledger WHERE hub_message_id = ANY($1::uuid[])',
      [rows.map((r) => r.hubMessageId)],
    );
    expect(ledger.rows).toEqual([]);
    const bal = await h.pool.query<{ account_id: string; balance_minor: string }>(
      'SELECT account_id, balance_minor::text FROM rating_balances WHERE account_id = ANY($1) ORDER BY 1',
      [[usdBalance, other]],
    );
    expect(bal.rows).toEqual([{ account_id: usdBalance, balance_minor: '100' }]);
  });

  it('writeCdrs: the submit time is stored to the millisecond (sent as epoch milliseconds)', async () => {
    const times = [new Date('2026-03-04T05:06:07.089Z'), new Date('1969-12-31T23:59:59.999Z')];
    const rows: CdrRow[] = times.map((submittedAt) => ({
      hubMessageId: randomUUID(),
      accountId: h.accounts.delivery,
      connectorId: 'con_a',
      supplierId: 'sup_1',
      country: 'DE',
      mccMnc: '',
      segments: 1,
      outcome: 'DELIVERED',
      status: 'RATED_STATUS_CHARGED',
      billedOn: 'final',
      sellMinor: 0n,
      sellCurrency: 'EUR',
      sellCharged: false,
      sellRateId: '',
      buyMinor: 0n,
      buyCurrency: 'EUR',
      buyCharged: false,
      buyRateId: '',
      marginMinor: null,
      submittedAt,
      ratedAt: new Date(),
      record: Buffer.from([1]),
      debitMinor: 0n,
    }));
    const res = await writeCdrs(h.pool, rows);
    expect(res.inserted.size).toBe(2);
    const stored = await h.pool.query<{ id: string; at: Date }>(
      'SELECT hub_message_id::text AS id, submitted_at AS at FROM rating_cdrs WHERE hub_message_id = ANY($1::uuid[])',
      [rows.map((r) => r.hubMessageId)],
    );
    const at = new Map(stored.rows.map((r) => [r.id, r.at.toISOString()]));
    expect(rows.map((r) => at.get(r.hubMessageId))).toEqual(times.map((t) => t.toISOString()));
    await h.pool.query('DELETE FROM rating_cdrs_unpublished WHERE hub_message_id = ANY($1::uuid[])', [
      rows.map((r) => r.hubMessageId),
    ]);
    await h.pool.query('DELETE FROM rating_cdrs WHERE hub_message_id = ANY($1::uuid[])', [
      rows.map((r) => r.hubMessageId),
    ]);
  });

  it('debits the balance with the CDR and publishes it on balances.v1; top-ups are idempotent', async () => {
    const a = h.accounts.submit;
    const sums = await h.pool.query<{ charged: string }>(
      `SELECT coalesce(sum(sell_minor), 0)::text AS charged FROM rating_cdrs WHERE account_id = $1 AND sell_charged`,
      [a],
    );
    const charged = BigInt(sums.rows[0]!.charged);
    expect(charged).toBeGreaterThan(0n);
    const bal = await h.pool.query<{ balance_minor: string }>(
      'SELECT balance_minor::text FROM rating_balances WHERE account_id = $1',
      [a],
    );
    expect(BigInt(bal.rows[0]!.balance_minor)).toBe(-charged);

    const first = await rating.topUp({
      id: randomUUID(),
      accountId: a,
      amountMinor: 1000n,
      currency: 'EUR',
      idempotencyKey: `pay-${a}`,
      reference: 'INV-1',
      actor: 'test',
    });
    expect(first.applied).toBe(true);
    expect(first.balanceMinor).toBe(1000n - charged);
    const again = await rating.topUp({
      id: randomUUID(),
      accountId: a,
      amountMinor: 1000n,
      currency: 'EUR',
      idempotencyKey: `pay-${a}`,
    });
    expect(again.applied).toBe(false);
    expect(again.balanceMinor).toBe(1000n - charged);
    // a top-up is in the ledger once (partial unique index, migration 0502; charges have no top-up id)
    const twice = await h.pool
      .query(
        `INSERT INTO rating_balance_ledger (account_id, topup_id, amount_minor, currency) VALUES ($1, $2::uuid, 1000, 'EUR')`,
        [a, first.topUpId],
      )
      .catch((e: unknown) => e);
    expect(twice).toMatchObject({ code: '23505' });

    // the latest published state of the account is the stored one
    const latest = await waitFor(
      () => {
        const mine = h.balances.filter((b) => b.key === a).map((b) => AccountBalance.decode(b.value));
        const last = mine.at(-1);
        return last && last.balance?.minorUnits === 1000n - charged ? last : undefined;
      },
      { what: 'the published balance after the top-up' },
    );
    expect(latest).toMatchObject({
      accountId: a,
      billingMode: BillingMode.BILLING_MODE_PREPAID,
      available: { currencyCode: 'EUR', minorUnits: 1000n - charged, scale: 2 },
      blocked: false,
      revision: first.revision,
    });

    // a new charge lowers it again and is published (coalesced)
    const c = context(a, '4917612340000', NEW, { country: 'DE' });
    await h.producer.produce(h.topics.dispatched, accepted(c));
    await ratedRecord(c.messageId);
    await waitFor(
      () =>
        h.balances
          .filter((b) => b.key === a)
          .map((b) => AccountBalance.decode(b.value))
          .some((b) => b.balance?.minorUnits === 1000n - charged - 3n),
      { what: 'the balance after one more 3-cent message' },
    );
  });

  it('settlement totals over gRPC and CSV match the CDRs, and the rated topic reconciles with them', async () => {
    const client = new SettlementServiceClient(
      `127.0.0.1:${rating.grpcPort}`,
      grpc.credentials.createInsecure(),
      { interceptors: [bearerInterceptor(ADMIN_TOKEN)] },
    );
    try {
      const today = new Date();
      const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
      const end = new Date(start.getTime() + 2 * 86_400_000);
      const query: SettlementQuery = {
        party: SettlementParty.SETTLEMENT_PARTY_CUSTOMER,
        partyId: '',
        period: SettlementPeriod.SETTLEMENT_PERIOD_DAY,
        startTime: start,
        endTime: end,
        byDestination: true,
      };

      // expected: the domain's settlement over the CDRs read back from the database
      const cdrs = await h.pool.query<{
        id: string;
        account_id: string;
        supplier_id: string;
        country: string;
        mcc_mnc: string;
        segments: number;
        sell_minor: string;
        sell_currency: string;
        sell_charged: boolean;
        buy_minor: string;
        buy_currency: string;
        buy_charged: boolean;
        rated_at: Date;
        submitted_at: Date;
      }>(
        `SELECT hub_message_id::text AS id, account_id, supplier_id, country, mcc_mnc, segments, sell_minor::text,
                sell_currency, sell_charged, buy_minor::text, buy_currency, buy_charged, rated_at, submitted_at
           FROM rating_cdrs`,
      );
      const records: RatedRecord[] = cdrs.rows.map((r) => ({
        hubMessageId: r.id,
        accountId: r.account_id,
        connectorId: r.supplier_id || undefined,
        country: r.country,
        mccMnc: r.mcc_mnc,
        segments: r.segments,
        status: 'DELIVERED',
        billedOn: 'final',
        sell: { amountMinor: BigInt(r.sell_minor), currency: r.sell_currency, charged: r.sell_charged },
        buy: { amountMinor: BigInt(r.buy_minor), currency: r.buy_currency, charged: r.buy_charged },
        submitTime: r.submitted_at.getTime(),
        billedAt: r.rated_at.getTime(),
      }));
      const expected: SettlementRow[] = settle(records, { party: 'customer', period: 'day' });
      expect(expected.length).toBeGreaterThan(2);

      const totals = await new Promise<GetTotalsResponse>((resolve, reject) =>
        client.getTotals({ query, pageSize: 0, pageToken: '' }, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      );
      expect(
        totals.totals.map((t) => ({
          partyId: t.partyId,
          country: t.destinationCountry,
          mccMnc: t.destinationMccMnc,
          currency: t.amount?.currencyCode,
          messages: Number(t.messages),
          segments: Number(t.segments),
          amountMinor: t.amount?.minorUnits,
        })),
      ).toEqual(
        expected.map((e) => ({
          partyId: e.partyId,
          country: e.country,
          mccMnc: e.mccMnc,
          currency: e.currency,
          messages: e.messages,
          segments: e.segments,
          amountMinor: e.amountMinor,
        })),
      );
      const supplierTotals = await new Promise<GetTotalsResponse>((resolve, reject) =>
        client.getTotals(
          {
            query: { ...query, party: SettlementParty.SETTLEMENT_PARTY_SUPPLIER, byDestination: false },
            pageSize: 0,
            pageToken: '',
          },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
      const buyCharged = records.filter((r) => r.buy.charged && r.connectorId);
      expect(supplierTotals.totals).toHaveLength(1);
      expect(supplierTotals.totals[0]!.partyId).toBe('sup_1');
      expect(Number(supplierTotals.totals[0]!.messages)).toBe(buyCharged.length);
      expect(supplierTotals.totals[0]!.amount?.minorUnits).toBe(
        buyCharged.reduce((s, r) => s + r.buy.amountMinor, 0n),
      );

      // CSV export: the domain's CSV format of the same rows
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = client.exportCsv({ query, perMessage: false });
        stream.on('data', (d: { chunk: Buffer }) => chunks.push(d.chunk));
        stream.on('end', () => resolve());
        stream.on('error', reject);
      });
      expect(Buffer.concat(chunks).toString('utf8')).toBe(toCsv(expected));

      // reconciliation: CDR counts against the records read back from billing.rated.v1
      const check = (): Promise<CheckReconciliationResponse> =>
        new Promise((resolve, reject) =>
          client.checkReconciliation(
            {
              supplierId: '',
              period: SettlementPeriod.SETTLEMENT_PERIOD_DAY,
              startTime: start,
              endTime: end,
              figures: [],
              csv: Buffer.alloc(0),
              tolerancePpm: 0,
            },
            (err, res) => (err ? reject(err) : resolve(res)),
          ),
        );
      const ok = await check();
      expect(ok.allMatched).toBe(true);
      expect(ok.lines.reduce((s, l) => s + l.hubMessages, 0n)).toBe(BigInt(cdrs.rows.length));
      // a CDR the topic does not know about is reported
      const ghost = randomUUID();
      await h.pool.query(
        `INSERT INTO rating_cdrs (hub_message_id, account_id, segments, outcome, status, billed_on, sell_minor, sell_currency,
           sell_charged, buy_minor, buy_currency, buy_charged, submitted_at, rated_at, record)
         VALUES ($1, 'ghost', 1, 'DELIVERED', 'RATED_STATUS_CHARGED', 'final', 5, 'EUR', true, 1, 'EUR', true, now(), now(), '\\x00')`,
        [ghost],
      );
      const bad = await check();
      expect(bad.allMatched).toBe(false);
      expect(bad.lines.some((l) => !l.matched && l.hubMessages === l.supplierMessages + 1n)).toBe(true);
    } finally {
      client.close();
    }
  });
});

describe('a re-routed message (two supplier attempts)', () => {
  /** The dispatch that made the CDR, then the final delivery through con_b after con_a failed. */
  async function rerouted(
    firstRated: 'con_a' | 'con_b',
  ): Promise<{ sale: BillingRated; cost: BillingRated }> {
    const id = randomUUID();
    const ctx = context(h.accounts.submit, `4917${String(Date.now()).slice(-7)}`, NEW, { country: 'DE' }, id);
    await h.producer.produce(h.topics.dispatched, accepted(ctx, firstRated));
    await ratedRecord(id);
    const delivery = {
      ...finalDelivery(ctx, DeliveryStatus.DELIVERY_STATUS_DELIVERED, { connectorId: 'con_b' }),
      reroutedFromConnectorId: 'con_a',
    };
    await h.producer.produce(h.topics.delivery, delivery);
    const cost = await waitFor(
      () => h.rated.map((r) => BillingRated.decode(r.value)).find((r) => r.reroutedMessageId === id),
      { what: `the internal record of ${id}'s other attempt`, timeoutMs: 20_000 },
    );
    // a replayed delivery writes nothing new
    await h.producer.produce(h.topics.delivery, delivery);
    await eventsRated([h.groupId]);
    await waitForGroupCommitted({ groupId: h.ratedReaderGroup, topic: h.topics.rated.name });
    expect(recordsFor(id)).toHaveLength(1);
    expect(h.rated.filter((r) => BillingRated.decode(r.value).reroutedMessageId === id)).toHaveLength(1);
    return { sale: recordsFor(id)[0]!, cost };
  }

  it('sells once and records the attempt the sale does not name, at its cost', async () => {
    const { sale, cost } = await rerouted('con_a');
    expect([sale.internal, sale.connectorId]).toEqual([false, 'con_a']);
    expect([cost.internal, cost.connectorId, cost.sell?.minorUnits ?? 0n]).toEqual([true, 'con_b', 0n]);
  });

  it('when the re-sent attempt was rated first, the failed one is recorded apart (never the same supplier twice)', async () => {
    const { sale, cost } = await rerouted('con_b');
    expect(sale.connectorId).toBe('con_b');
    expect([cost.internal, cost.connectorId]).toEqual([true, 'con_a']);
    expect(cost.buy?.minorUnits ?? 0n).toBeGreaterThan(0n);
  });
});
