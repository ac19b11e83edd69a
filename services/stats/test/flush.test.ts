// The interval flush over real Kafka and PostgreSQL: records read but not yet flushed are only in memory
// and their offsets are not committed to Kafka, so a crash between flushes loses nothing (the next
// member reads them again) and counts nothing twice (the offsets stored with the rows skip what a
// flush committed), even when the group is then reset to the start of its topics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsValues } from '@smshub/contracts';
import { testKafkaAdmin, waitFor } from '@smshub/testing';
import { Harness, type TestMessage } from './harness.js';

const h = new Harness();
const MIN = 60_000;
const base = new Date(Math.floor(Date.now() / MIN) * MIN - 20 * MIN);
const at = (minutes: number) => new Date(base.getTime() + minutes * MIN);
const window = { startTime: at(-60), endTime: at(60) };
let published = 0;

const message = (minute: number): TestMessage => ({
  accountId: h.accounts[0]!,
  receivedAt: at(minute),
  rated: {
    connectorId: 'conn-1',
    deliveryStatus: 'DELIVERY_STATUS_DELIVERED',
    latencyMs: 1_000,
    sell: 40_000n,
    buy: 25_000n,
  },
});

async function publish(minute: number): Promise<void> {
  await h.publish(message(minute));
  published += 2; // sms.routed.v1 and billing.rated.v1
}

/** The roll-up's offsets (stats_offsets, written with the rows) sum to `records` of the three topics. */
async function stored(): Promise<number> {
  const r = await h.pool.query<{ n: string }>(
    'SELECT coalesce(sum(next_offset), 0) AS n FROM stats_offsets WHERE group_id = $1',
    [h.groupId],
  );
  return Number(r.rows[0]!.n);
}

async function flushed(records: number): Promise<void> {
  await waitFor(async () => (await stored()) === records, {
    what: `${records} records flushed`,
    timeoutMs: 60_000,
  });
}

async function totals() {
  const s = await h.client('admin').summary({ window });
  const v = s.values as StatsValues;
  const eur = v.money.find((m) => m.currencyCode === 'EUR');
  return {
    submitted: Number(v.submitted),
    accepted: Number(v.accepted),
    delivered: Number(v.delivered),
    rated: Number(eur?.rated ?? 0),
    revenue: eur?.revenue ? Number(eur.revenue.minorUnits) / 10 ** eur.revenue.scale : 0,
  };
}

beforeAll(async () => {
  await h.setup();
}, 120_000);

afterAll(async () => {
  await h.stats?.abandon(); // when a step failed with a flush far away: do not wait for it
  await h.teardown();
});

describe('stats interval flush', () => {
  it('a crash between flushes loses nothing and counts nothing twice', async () => {
    // 1. One message flushed as usual.
    await publish(0);
    await flushed(published);
    expect(await totals()).toEqual({ submitted: 1, accepted: 1, delivered: 1, rated: 1, revenue: 0.04 });

    // 2. A member whose next flush is far away reads two more messages (its first fetch); it crashes
    //    before flushing.
    await h.stop();
    await publish(1);
    await publish(2);
    h.options = { ...h.options, flush: { intervalMs: 600_000, maxRecords: 1_000_000 } };
    await h.start();
    await waitFor(() => h.stats.pendingRecords === 4, {
      what: 'the 4 records read, not flushed',
      timeoutMs: 60_000,
    });
    // read but only in memory: nothing of them in PostgreSQL
    expect(await stored()).toBe(2);
    expect((await totals()).submitted).toBe(1);
    await h.stats.abandon();

    // 3. The next member reads them again (their offsets were never committed to Kafka) and counts each once.
    h.options = { ...h.options, flush: { intervalMs: 200, maxRecords: 10_000 } };
    await h.start();
    await flushed(published);
    expect(await totals()).toEqual({ submitted: 3, accepted: 3, delivered: 3, rated: 3, revenue: 0.12 });

    // 4. The group reset to the start of its topics: every record is read again, none counted again.
    await h.stop();
    const admin = await testKafkaAdmin();
    for (const topic of [h.topics.routed.name, h.topics.rejected.name, h.topics.rated.name])
      await admin.resetOffsets({ groupId: h.groupId, topic, earliest: true });
    await admin.disconnect();
    await h.start();
    await publish(3); // once it is counted, the replayed records before it have been read too
    await flushed(published);
    expect(await totals()).toEqual({ submitted: 4, accepted: 4, delivered: 4, rated: 4, revenue: 0.16 });
  }, 240_000);
});
