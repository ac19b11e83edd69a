// Two egress replicas sharing one connector's TPS limit (EGRESS_REPLICAS=2): each holds one partition of
// sms.routed.v1 and its own binds, and paces at its share of the limit, so together they never submit more
// than the limit in any second. (README "TPS across binds and replicas": a static split.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafkaAdmin, waitFor } from '@smshub/testing';
import { FakeSmsc, maxInAnySecond, maxPerSecond } from './fake-smsc.js';
import { Harness } from './harness.js';

describe('egress: two replicas sharing a connector limit', () => {
  const h = new Harness();
  const smsc = new FakeSmsc();
  const LIMIT = 20;

  beforeAll(async () => {
    await h.setup();
    await h.addConnector({
      id: 'con_shared',
      port: await smsc.listen(),
      sessions: 1,
      maxSubmitRate: LIMIT,
      windowSize: 5,
    });
  });
  afterAll(async () => {
    await h.teardown();
    await smsc.close();
  });

  it('together never submit more than the connector TPS in any second', async () => {
    const cores = [await h.startCore({ replicas: 2 }), await h.startCore({ replicas: 2 })];
    await waitFor(() => cores.every((c) => c.connectors.get('con_shared')?.healthy), {
      what: 'both replicas bound',
      timeoutMs: 30_000,
    });
    // Both replicas hold a partition before the messages come (the routed topic has two).
    const admin = await testKafkaAdmin();
    try {
      await waitFor(
        async () => {
          const [g] = (await admin.describeGroups([h.group])).groups;
          return g?.state === 'Stable' && g.members.length === 2;
        },
        { what: 'a stable group of two replicas', timeoutMs: 30_000 },
      );
    } finally {
      await admin.disconnect();
    }

    const N = 80;
    const ids = await Promise.all(
      Array.from({ length: N }, (_, i) => h.route(['con_shared'], `shared ${i}`)),
    );
    await waitFor(() => ids.every((id) => h.dispatchesOf(id).length === 1), {
      what: `${N} dispatches`,
      timeoutMs: 40_000,
    });
    const got = smsc.received;
    expect(got.length).toBe(N);
    // Each replica sent over its own bind: both took part.
    const bySession = new Map<string, number>();
    for (const r of got) bySession.set(r.sessionId, (bySession.get(r.sessionId) ?? 0) + 1);
    expect(bySession.size).toBe(2);
    const times = got.map((r) => r.at);
    console.log(
      `two replicas, limit ${LIMIT}/s: ${[...bySession.values()].join(' + ')} submits, max per calendar second ` +
        `${maxPerSecond(times)}, max in any 1 s window ${maxInAnySecond(times)}, over ${Math.max(...times) - Math.min(...times)} ms`,
    );
    // Each alone could go at the whole limit: together they would then reach about twice it.
    expect(maxPerSecond(times)).toBeLessThanOrEqual(LIMIT);
    expect(maxInAnySecond(times)).toBeLessThanOrEqual(LIMIT);
    await Promise.all(cores.map((c) => c.stop()));
  }, 120_000);
});
