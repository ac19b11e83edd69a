// The stats service over real Kafka and PostgreSQL: records published as routing and rating publish them
// are rolled up, and StatsService answers totals, series and breakdowns; a replay does not count twice;
// a rated correction replaces what was counted; roles see what they may.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RatedStatus,
  StatsDimension,
  StatsOrder,
  TrafficType,
  type StatsFilter,
  type StatsValues,
} from '@smshub/contracts';
import { testKafkaAdmin, waitFor } from '@smshub/testing';
import { bucketOf, bucketValue } from '../src/domain/histogram.js';
import { Harness, type TestMessage } from './harness.js';

const h = new Harness();
const MIN = 60_000;
const base = new Date(Math.floor(Date.now() / MIN) * MIN - 30 * MIN);
const at = (minutes: number) => new Date(base.getTime() + minutes * MIN);
const window = { startTime: at(-60), endTime: at(60) };
const DELIVERED = 'DELIVERY_STATUS_DELIVERED';

let A = '';
let B = '';
const ids: Record<string, string> = {};
const messages: Record<string, TestMessage> = {};
let ratedPublished = 0;

function money(v: StatsValues, currency: string) {
  const m = v.money.find((x) => x.currencyCode === currency);
  if (!m) return undefined;
  const amount = (x?: { minorUnits: bigint; scale: number }) =>
    x === undefined ? undefined : Number(x.minorUnits) / 10 ** x.scale;
  return {
    revenue: amount(m.revenue),
    cost: amount(m.cost),
    margin: amount(m.margin),
    rated: Number(m.rated),
  };
}

const counts = (v: StatsValues | undefined) =>
  v && {
    submitted: Number(v.submitted),
    accepted: Number(v.accepted),
    rejected: Number(v.rejected),
    delivered: Number(v.delivered),
    failed: Number(v.failed),
  };

async function publish(name: string, m: TestMessage): Promise<void> {
  messages[name] = m;
  ids[name] = await h.publish(m);
  if (m.rated) ratedPublished++;
}

/** Waits until the roll-up has read every rated record published (a positive signal for absences). */
async function ratedCaughtUp(): Promise<void> {
  await waitFor(
    async () => {
      const r = await h.pool.query<{ n: string }>(
        `SELECT coalesce(sum(next_offset), 0) AS n FROM stats_offsets WHERE topic = $1`,
        [h.topics.rated.name],
      );
      return Number(r.rows[0]!.n) === ratedPublished;
    },
    { timeoutMs: 30_000 },
  );
}

/** Waits until the consumer group has committed the end offset of every partition it reads. */
async function groupCaughtUp(): Promise<void> {
  const admin = await testKafkaAdmin();
  try {
    await waitFor(
      async () => {
        for (const topic of [h.topics.routed.name, h.topics.rejected.name, h.topics.rated.name]) {
          const ends = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({ groupId: h.groupId, topics: [topic] });
          for (const e of ends) {
            const c = committed!.partitions.find((p) => p.partition === e.partition);
            if (Number(e.high) > 0 && Number(c?.offset ?? -1) !== Number(e.high)) return false;
          }
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  await h.setup();
  [A, B] = h.accounts as [string, string];
  const otp = TrafficType.TRAFFIC_TYPE_OTP;
  const trx = TrafficType.TRAFFIC_TYPE_TRANSACTIONAL;
  const mkt = TrafficType.TRAFFIC_TYPE_MARKETING;
  await publish('A1', {
    accountId: A,
    receivedAt: at(0),
    trafficType: otp,
    rated: {
      connectorId: 'conn-1',
      deliveryStatus: DELIVERED,
      latencyMs: 2_000,
      sell: 40_000n,
      buy: 20_000n,
    },
  });
  await publish('A2', {
    accountId: A,
    receivedAt: at(1),
    trafficType: otp,
    rated: {
      connectorId: 'conn-2',
      deliveryStatus: 'DELIVERY_STATUS_UNDELIVERABLE',
      latencyMs: 5_000,
      sell: 40_000n,
      buy: 25_000n,
    },
  });
  // pending: routed, no final status yet
  await publish('A3', {
    accountId: A,
    receivedAt: at(1),
    trafficType: trx,
    country: 'DE',
    mcc: '262',
    mnc: '01',
  });
  // refused by the hub: sms.rejected.v1, then rating's NOT_CHARGED record without a connector
  await publish('A4', {
    accountId: A,
    receivedAt: at(2),
    trafficType: trx,
    country: 'DE',
    mcc: '262',
    mnc: '01',
    rejected: true,
    rated: {
      connectorId: '',
      deliveryStatus: 'DELIVERY_STATUS_REJECTED',
      latencyMs: 10,
      segments: 0,
      sell: 0n,
      buy: 0n,
      status: RatedStatus.RATED_STATUS_NOT_CHARGED,
    },
  });
  await publish('B1', {
    accountId: B,
    receivedAt: at(2),
    trafficType: mkt,
    country: 'DE',
    mcc: '262',
    mnc: '01',
    rated: {
      connectorId: 'conn-1',
      deliveryStatus: DELIVERED,
      latencyMs: 10_000,
      segments: 2,
      sell: 70_000n,
      buy: 30_000n,
      currency: 'USD',
    },
  });
  await publish('B2', {
    accountId: B,
    receivedAt: at(0),
    trafficType: mkt,
    rated: {
      connectorId: 'conn-1',
      deliveryStatus: DELIVERED,
      latencyMs: 3_000,
      sell: 35_000n,
      buy: 15_000n,
      currency: 'USD',
    },
  });
  const admin = h.client('admin');
  await waitFor(
    async () => {
      const s = await admin.summary({ window });
      const rated = s.values!.money.reduce((n, m) => n + Number(m.rated), 0);
      return Number(s.values!.submitted) === 6 && rated === 5;
    },
    { timeoutMs: 60_000 },
  );
}, 180_000);

afterAll(async () => {
  await h.teardown();
}, 60_000);

describe('StatsService over the roll-ups', () => {
  it('answers the totals of a window: counts, delivery ratio, latency percentiles, segments, money per currency', async () => {
    const s = await h.client('admin').summary({ window });
    const v = s.values!;
    expect(counts(v)).toEqual({ submitted: 6, accepted: 5, rejected: 1, delivered: 3, failed: 1 });
    expect(v.deliveryRatioPpm).toBe(750_000);
    expect(Number(v.segments)).toBe(5);
    expect(Number(v.latencySamples)).toBe(3);
    expect(v.latencyP50Ms).toBe(bucketValue(bucketOf(3_000)));
    expect(v.latencyP99Ms).toBe(bucketValue(bucketOf(10_000)));
    expect(money(v, 'EUR')).toEqual({ revenue: 0.08, cost: 0.045, margin: 0.035, rated: 3 });
    expect(money(v, 'USD')).toEqual({ revenue: 0.105, cost: 0.045, margin: 0.06, rated: 2 });
    expect(s.dataUntil!.getTime()).toBe(at(2).getTime());
  });

  it('breaks down by connector, country, network, account and traffic type', async () => {
    const c = h.client('admin');
    const by = async (dimension: StatsDimension, filter: Partial<StatsFilter> = {}) => {
      const r = await c.breakdown({ window, dimension, filter: filter as StatsFilter });
      return Object.fromEntries(r.rows.map((row) => [row.key, row.values!]));
    };
    const conn = await by(StatsDimension.STATS_DIMENSION_CONNECTOR);
    expect(counts(conn['conn-1'])).toEqual({
      submitted: 0,
      accepted: 0,
      rejected: 0,
      delivered: 3,
      failed: 0,
    });
    expect(conn['conn-1']!.deliveryRatioPpm).toBe(1_000_000);
    expect(conn['conn-2']!.deliveryRatioPpm).toBe(0);
    expect(money(conn['conn-1']!, 'USD')).toEqual({ revenue: 0.105, cost: 0.045, margin: 0.06, rated: 2 });
    // submissions are not attributed to a connector until one carries the message
    expect(counts(conn[''])).toEqual({ submitted: 6, accepted: 5, rejected: 1, delivered: 0, failed: 0 });

    const country = await by(StatsDimension.STATS_DIMENSION_COUNTRY);
    expect(counts(country.GB)).toEqual({ submitted: 3, accepted: 3, rejected: 0, delivered: 2, failed: 1 });
    expect(counts(country.DE)).toEqual({ submitted: 3, accepted: 2, rejected: 1, delivered: 1, failed: 0 });
    const net = await by(StatsDimension.STATS_DIMENSION_MCC_MNC);
    expect(Object.keys(net).sort()).toEqual(['234-15', '262-01']);
    expect(net['234-15']!.deliveryRatioPpm).toBe(666_667);

    const account = await by(StatsDimension.STATS_DIMENSION_ACCOUNT);
    expect(counts(account[A])).toEqual({ submitted: 4, accepted: 3, rejected: 1, delivered: 1, failed: 1 });
    expect(counts(account[B])).toEqual({ submitted: 2, accepted: 2, rejected: 0, delivered: 2, failed: 0 });
    expect(money(account[A]!, 'EUR')).toEqual({ revenue: 0.08, cost: 0.045, margin: 0.035, rated: 3 });

    const tt = await by(StatsDimension.STATS_DIMENSION_TRAFFIC_TYPE);
    expect(Object.fromEntries(Object.entries(tt).map(([k, v]) => [k, Number(v.submitted)]))).toEqual({
      '1': 2,
      '2': 2,
      '3': 2,
    });

    // a filter on two dimensions reads the full-key roll-up
    const gbOfA = await by(StatsDimension.STATS_DIMENSION_CONNECTOR, { accountIds: [A], countries: ['gb'] });
    expect(counts(gbOfA['conn-2'])).toEqual({
      submitted: 0,
      accepted: 0,
      rejected: 0,
      delivered: 0,
      failed: 1,
    });
    expect(counts(gbOfA[''])).toEqual({ submitted: 2, accepted: 2, rejected: 0, delivered: 0, failed: 0 });
    expect(gbOfA['conn-1']!.delivered).toBe(1n);

    const worst = await c.breakdown({
      window,
      dimension: StatsDimension.STATS_DIMENSION_CONNECTOR,
      order: StatsOrder.STATS_ORDER_DELIVERY_RATIO,
    });
    expect(worst.rows.map((r) => r.key)).toEqual(['conn-2', 'conn-1', '']);
    expect(Number(worst.total!.submitted)).toBe(6);
  });

  it('gives series per step, every step present, and one series per group', async () => {
    const c = h.client('admin');
    const s = await c.series({ window: { startTime: at(0), endTime: at(5) }, stepSeconds: 60 });
    expect(s.series).toHaveLength(1);
    const points = s.series[0]!.points;
    expect(points.map((p) => p.time!.getTime())).toEqual([0, 1, 2, 3, 4].map((m) => at(m).getTime()));
    expect(points.map((p) => Number(p.values!.submitted))).toEqual([2, 2, 2, 0, 0]);
    expect(points.map((p) => Number(p.values!.failed))).toEqual([0, 1, 0, 0, 0]);
    expect(points[2]!.values!.rejected).toBe(1n);

    const grouped = await c.series({
      window: { startTime: at(0), endTime: at(5) },
      stepSeconds: 120,
      groupBy: StatsDimension.STATS_DIMENSION_ACCOUNT,
    });
    expect(grouped.stepSeconds).toBe(120);
    const byKey = Object.fromEntries(
      grouped.series.map((x) => [x.key, x.points.map((p) => Number(p.values!.submitted))]),
    );
    expect(byKey).toEqual({ [A]: [3, 1, 0], [B]: [1, 1, 0] });

    // 24 h at one-minute steps: 1,440 points
    const day = await c.series({ window: { startTime: at(-1_380), endTime: at(60) } });
    expect(day.stepSeconds).toBe(60);
    expect(day.series[0]!.points).toHaveLength(1_440);
  });

  it('limits a customer token to its own account and its revenue; operations see no money', async () => {
    const customer = h.client('customer');
    const s = await customer.summary({ window });
    expect(counts(s.values)).toEqual({ submitted: 4, accepted: 3, rejected: 1, delivered: 1, failed: 1 });
    expect(s.values!.money).toHaveLength(1);
    expect(s.values!.money[0]!.revenue!.minorUnits).toBeGreaterThan(0n);
    expect(s.values!.money[0]!.cost).toBeUndefined();
    expect(s.values!.money[0]!.margin).toBeUndefined();
    const accounts = await customer.breakdown({ window, dimension: StatsDimension.STATS_DIMENSION_ACCOUNT });
    expect(accounts.rows.map((r) => r.key)).toEqual([A]);
    await expect(
      customer.summary({ window, filter: { accountIds: [B] } as StatsFilter }),
    ).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });

    const ops = await h.client('operations').summary({ window });
    expect(Number(ops.values!.submitted)).toBe(6);
    expect(ops.values!.money).toEqual([]);
    const fin = await h.client('finance').summary({ window });
    expect(money(fin.values!, 'EUR')?.margin).toBe(0.035);
    await expect(h.client({ token: 'smshub_not-a-token' }).summary({ window })).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
  });

  it('refuses bad requests with INVALID_ARGUMENT', async () => {
    const c = h.client('admin');
    await expect(c.summary({})).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(c.breakdown({ window })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(
      c.series({ window: { startTime: at(0), endTime: at(60 * 48) }, stepSeconds: 60 }),
    ).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it('counts nothing twice when the group replays its topics from the start', async () => {
    const admin = await testKafkaAdmin();
    await h.stop();
    for (const topic of [h.topics.routed.name, h.topics.rejected.name, h.topics.rated.name]) {
      await admin.resetOffsets({ groupId: h.groupId, topic, earliest: true });
    }
    await admin.disconnect();
    await h.start();
    // one new message after the replayed ones: once it is counted, the replay has been read too
    await publish('A5', {
      accountId: A,
      receivedAt: at(3),
      rated: {
        connectorId: 'conn-1',
        deliveryStatus: DELIVERED,
        latencyMs: 1_000,
        sell: 40_000n,
        buy: 20_000n,
      },
    });
    // the positive signal: the group has committed every record of the three topics (the replayed
    // ones included), and the roll-up's own offsets have passed every record
    await groupCaughtUp();
    await ratedCaughtUp();
    const s = await h.client('admin').summary({ window });
    expect(counts(s.values)).toEqual({ submitted: 7, accepted: 6, rejected: 1, delivered: 4, failed: 1 });
    expect(money(s.values!, 'EUR')).toEqual({ revenue: 0.12, cost: 0.065, margin: 0.055, rated: 4 });
    // a stop, a group join and two catch-up waits of up to 30 s each
  }, 120_000);

  it('replaces a rated message by its correction and ignores a duplicate or older revision', async () => {
    const m = messages.A2!;
    // the same revision again (a duplicate publication), then revision 2: delivered after all
    await h.rate(ids.A2!, m);
    ratedPublished++;
    await h.rate(ids.A2!, {
      ...m,
      rated: { ...m.rated!, deliveryStatus: DELIVERED, latencyMs: 4_000, revision: 2 },
    });
    ratedPublished++;
    // revision 1 once more after the correction: older, ignored
    await h.rate(ids.A2!, m);
    ratedPublished++;
    await ratedCaughtUp();
    const c = h.client('admin');
    const s = await c.summary({ window });
    expect(counts(s.values)).toEqual({ submitted: 7, accepted: 6, rejected: 1, delivered: 5, failed: 0 });
    expect(money(s.values!, 'EUR')).toEqual({ revenue: 0.12, cost: 0.065, margin: 0.055, rated: 4 });
    const conn = await c.breakdown({ window, dimension: StatsDimension.STATS_DIMENSION_CONNECTOR });
    const c2 = conn.rows.find((r) => r.key === 'conn-2')!.values!;
    expect(counts(c2)).toEqual({ submitted: 0, accepted: 0, rejected: 0, delivered: 1, failed: 0 });
    expect(Number(c2.latencySamples)).toBe(1);
  });
});
