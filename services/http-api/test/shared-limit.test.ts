import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { waitFor } from '@smshub/testing';
import { call, Harness } from './harness.js';

// One TPS limit per account whichever door: an HTTP replica takes its share of the account's tps_limit
// next to the account's live SMPP binds on ingress replicas (ingress_binds), and registers itself there
// so ingress counts it too.
describe('the account TPS limit is shared with SMPP binds', () => {
  const h = new Harness();
  beforeAll(() => h.setup());
  afterAll(() => h.teardown());

  /** Offers messages for `ms` from 16 loops at once (an accepted one waits for Kafka); returns how many were accepted and the time taken. */
  const offer = async (url: string, key: string, ms: number) => {
    const started = performance.now();
    let accepted = 0;
    const loop = async () => {
      while (performance.now() - started < ms) {
        const r = await call(`${url}/v1/messages`, {
          key,
          body: { to: '+447400123456', from: 'ACME', text: 'x' },
        });
        if (r.status === 202) accepted++;
        else if (r.status !== 429) throw new Error(`unexpected ${r.status}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, loop));
    return { accepted, seconds: (performance.now() - started) / 1000 };
  };

  it('alone, the HTTP door holds the whole limit; next to one live SMPP bind elsewhere, half of it', async () => {
    const alone = await h.addAccount({ systemId: 'alone', tpsLimit: 20 });
    const shared = await h.addAccount({ systemId: 'shared', tpsLimit: 20 });
    // One transceiver bind of `shared` on an ingress replica, heartbeat fresh.
    await h.pool.query(
      `INSERT INTO ingress_binds (session_id, replica_id, system_id, bind_type, remote)
       VALUES ('s1', 'ingress-1', 'shared', 'transceiver', '10.0.0.1:1')`,
    );
    // Its replica keeps the row fresh, as a live ingress does (stale after 6 s otherwise).
    const heartbeat = setInterval(
      () =>
        void h.pool
          .query(`UPDATE ingress_binds SET heartbeat_at = now() WHERE session_id = 's1'`)
          .catch(() => undefined),
      1000,
    );
    onTestFinished(() => clearInterval(heartbeat));
    const api = await h.startReplica();
    const [aloneKey, sharedKey] = [await h.addKey(alone), await h.addKey(shared)];
    // Offered above the limit for 3 s each, both at once. The bucket holds one second of the share:
    // accepted = share × (1 + seconds), 20/s alone and 10/s when shared.
    const [a, sh] = await Promise.all([offer(api.url, aloneKey, 3000), offer(api.url, sharedKey, 3000)]);
    expect(a.accepted).toBeLessThanOrEqual(20 * (1 + a.seconds) + 2);
    expect(a.accepted).toBeGreaterThanOrEqual(0.6 * 20 * (1 + a.seconds));
    expect(sh.accepted).toBeLessThanOrEqual(10 * (1 + sh.seconds) + 2);
    expect(sh.accepted).toBeGreaterThanOrEqual(0.6 * 10 * (1 + sh.seconds));
    // The lower bounds are loose (a loaded 2-core machine may not offer enough); the split is not.
    expect(sh.accepted).toBeLessThan(0.7 * a.accepted);
    // The HTTP replica is in ingress_binds for `shared` now (ingress's share of the account halves too),
    // and not counted as a bind for max_binds (bind_type 'http').
    const rows = await waitFor(async () => {
      const r = await h.pool.query<{ bind_type: string }>(
        `SELECT bind_type FROM ingress_binds WHERE system_id = 'shared' ORDER BY bind_type`,
      );
      return r.rows.length === 2 ? r.rows : undefined;
    });
    expect(rows.map((r) => r.bind_type)).toEqual(['http', 'transceiver']);
  });
});
