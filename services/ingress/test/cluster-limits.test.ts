// tps_limit across ingress replicas (limits.ts): two real replicas over TCP share one customer's limit,
// and the survivor of a crash takes the whole limit within 10 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '@smshub/db';
import { SmppError, type SmppSession } from '@smshub/smpp';
import { Harness } from './harness.js';

const LIMIT = 20;

const msg = {
  source_addr: 'ACME',
  source_addr_ton: 5,
  destination_addr: '447700900123',
  short_message: Buffer.from('hi'),
};

interface Sent {
  /** ms since the offer started, at the send. */
  at: number;
  ok: boolean;
}

/**
 * Offers `rate` submits per second in total, round robin over `sessions` (as SMPP clients do), for
 * `durationMs`; every submit's send time and whether it was accepted.
 */
async function offer(sessions: SmppSession[], rate: number, durationMs: number): Promise<Sent[]> {
  const out: Promise<Sent>[] = [];
  const t0 = performance.now();
  for (let i = 0; ; i++) {
    const due = (i * 1000) / rate;
    if (due >= durationMs) break;
    const wait = t0 + due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = performance.now() - t0;
    out.push(
      sessions[i % sessions.length]!.submit(msg).then(
        () => ({ at, ok: true }),
        (e: unknown) => {
          if (e instanceof SmppError) return { at, ok: false };
          throw e;
        },
      ),
    );
  }
  return Promise.all(out);
}

/** Accepted submits per second among those sent in [fromMs, toMs). */
function acceptedRate(sent: Sent[], fromMs: number, toMs: number): number {
  const n = sent.filter((s) => s.ok && s.at >= fromMs && s.at < toMs).length;
  return (n * 1000) / (toMs - fromMs);
}

describe('ingress: tps_limit across replicas', () => {
  const h = new Harness();
  let poolB: Pool;

  beforeAll(async () => {
    await h.setup();
    poolB = createPool({ connectionString: h.db.url, max: 4 });
  });
  afterAll(() => h.teardown());

  it('two replicas hold one customer to its limit; a crashed one hands its share over within 10 s', async () => {
    const a = await h.startReplica();
    const b = await h.startReplica({}, { pool: poolB });
    await h.addAccount({ systemId: 'shared', password: 'pw', tpsLimit: LIMIT, maxBinds: 4, maxWindow: 100 });
    const bind = (port: number) =>
      h.bind(port, { systemId: 'shared', password: 'pw', bindType: 'transmitter', window: 100 });
    const onA = await bind(a.port);
    const onB = await bind(b.port);

    // 2× the limit over one bind on each replica. The first 3 s spend the buckets' first second and let
    // both replicas read each other's bind (heartbeat cycle 2 s); then the rate must be the limit.
    const both = await offer([onA, onB], 2 * LIMIT, 7000);
    const steady = acceptedRate(both, 3000, 7000);
    console.log(`two replicas, ${2 * LIMIT}/s offered: ${steady.toFixed(1)}/s accepted (limit ${LIMIT}/s)`);
    // Never over the limit. Under it by what a busy machine's stalls cost (submits bunched after a stall
    // find at most a bucket's burst of tokens): 18.8/s at load 35, so 0.9 was at the edge. Half the limit
    // (a replica never counting the other's share right) still fails by far.
    expect(steady).toBeGreaterThanOrEqual(LIMIT * 0.85);
    expect(steady).toBeLessThanOrEqual(LIMIT * 1.1);

    // Crash B: its heartbeats stop (its database pool is gone, so its rows stay behind, stale) and its
    // customer connection drops. The customer goes on with 2× the limit on its bind to A.
    // (Not awaited: end() waits for B's held LISTEN connection; every new query fails at once.)
    void poolB.end().catch(() => undefined);
    onB.destroy();
    const alone = await offer([onA], 2 * LIMIT, 13_000);
    const before = acceptedRate(alone, 500, 2500);
    const after = acceptedRate(alone, 10_000, 13_000);
    console.log(
      `after the crash: ${before.toFixed(1)}/s in the first 2 s, ${after.toFixed(1)}/s from 10 s on (limit ${LIMIT}/s)`,
    );
    // At first A keeps its half (B's binds still count)...
    expect(before).toBeLessThanOrEqual(LIMIT * 0.5 * 1.25);
    // ...and within 10 s it has the whole limit (less a busy machine's stalls, as above).
    expect(after).toBeGreaterThanOrEqual(LIMIT * 0.85);
    expect(after).toBeLessThanOrEqual(LIMIT * 1.1);
  }, 60_000);
});
