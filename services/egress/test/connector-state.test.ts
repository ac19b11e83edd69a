// The live connector state on egress.connector-state.v1 (connector-state.ts): two replicas each publish
// their share of a connector's sessions; a supplier throttling shows as throttled responses and failovers;
// a replica that stops gives its records up with tombstones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionBindState, type ConnectorState } from '@smshub/contracts';
import { CommandStatus } from '@smshub/smpp';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import { uniqueName, waitFor } from '@smshub/testing';
import type { Consumer } from 'kafkajs';
import { Harness } from './harness.js';

describe('live connector state across egress replicas', () => {
  const h = new Harness();
  let throttling: Simulator;
  let fallback: Simulator;
  let reader: Consumer;
  /** Latest record per key; null after a tombstone. */
  const latest = new Map<string, ConnectorState | null>();

  beforeAll(async () => {
    await h.setup();
    throttling = createSimulator({
      systemId: 'hub',
      password: 'secret',
      seed: 11,
      acceptLatencyMs: { min: 1, max: 5 },
      errorRates: { [CommandStatus.ESME_RTHROTTLED]: 0.4 },
    });
    fallback = createSimulator({ systemId: 'hub', password: 'secret', seed: 12 });
    await h.addConnector({
      id: 'con_live',
      port: (await throttling.listen(0)).port,
      sessions: 2,
      maxSubmitRate: 200,
      windowSize: 7,
    });
    await h.addConnector({ id: 'con_fallback', port: (await fallback.listen(0)).port });
    reader = h.kafka.consumer({ groupId: uniqueName('state-reader') });
    await reader.connect();
    await reader.subscribe({ topic: h.topics.connectorState.name, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const key = message.key!.toString();
        latest.set(key, message.value?.length ? h.topics.connectorState.decode(message.value) : null);
      },
    });
  });
  afterAll(async () => {
    await reader?.disconnect();
    await h.teardown();
    await Promise.all([throttling.close(), fallback.close()]);
  });

  it("shows both replicas' sessions, the supplier's throttling and the failovers, and a stopped replica's tombstone", async () => {
    const o = {
      stateIntervalMs: 300,
      retry: { maxRetriesPerConnector: 0, backoff: { initialMs: 10, maxMs: 20 } },
    };
    const [ra, rb] = [uniqueName('ra'), uniqueName('rb')];
    await h.startCore({ ...o, replicaId: ra });
    const b = await h.startCore({ ...o, replicaId: rb });
    // Each replica holds one of the connector's two sessions once they see each other.
    await waitFor(
      () => {
        const rs = [...latest.entries()].filter(([k, v]) => k.startsWith('con_live/') && v);
        return (
          rs.length === 2 &&
          rs.every(
            ([, v]) =>
              v!.liveReplicas === 2 &&
              v!.sessions.length === 1 &&
              v!.sessions[0]!.state === SessionBindState.SESSION_BIND_STATE_BOUND,
          )
        );
      },
      { what: 'both replicas reporting one bound session each', timeoutMs: 30_000 },
    );
    const records = [...latest.entries()].filter(([k]) => k.startsWith('con_live/')).map(([, v]) => v!);
    for (const r of records) {
      expect(r.windowSize).toBe(7);
      expect(r.maxSubmitRate).toBe(200);
      expect(r.sessions[0]!.bindType).toBe('transceiver');
      expect(r.tpsShare).toBeGreaterThan(80);
      expect(r.tpsShare).toBeLessThanOrEqual(100);
    }

    // Throttled answers fail over at once (no retries on the connector) to the fallback.
    for (let i = 0; i < 60; i++) await h.route(['con_live', 'con_fallback'], `live ${i}`);
    const sum = (f: (s: ConnectorState) => number) =>
      [...latest.entries()]
        .filter(([k, v]) => k.startsWith('con_live/') && v)
        .reduce((n, [, v]) => n + f(v!), 0);
    await waitFor(() => sum((s) => s.throttledLastMinute) > 0 && sum((s) => s.failoversLastMinute) > 0, {
      what: 'throttling and failovers reported',
      timeoutMs: 20_000,
    });
    expect(sum((s) => s.throttledLastMinute)).toBe(sum((s) => s.failoversLastMinute));
    expect(sum((s) => Number(s.failoversTotal))).toBeGreaterThanOrEqual(sum((s) => s.failoversLastMinute));

    // A graceful stop tombstones the replica's records; the other replica's stay.
    await b.stop();
    await waitFor(() => latest.get(`con_live/${rb}`) === null, {
      what: "the stopped replica's tombstone",
      timeoutMs: 10_000,
    });
    expect(latest.get(`con_fallback/${rb}`)).toBeNull();
    const aKey = `con_live/${ra}`;
    // The survivor takes both sessions and reports them.
    await waitFor(() => latest.get(aKey)?.sessions.length === 2 && latest.get(aKey)?.liveReplicas === 1, {
      what: 'the survivor reporting both sessions',
      timeoutMs: 20_000,
    });
  });
});
