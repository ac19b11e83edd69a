// End to end against the shared SMSC simulator (libs/smsc-simulator): receipts in the real-world id
// mismatch (hex in submit_sm_resp, zero-padded decimal in the text) join with their dispatches,
// injected throttling is retried without duplicates, and random disconnects are survived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchOutcome } from '@smshub/contracts';
import { CommandStatus } from '@smshub/smpp';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import { waitFor } from '@smshub/testing';
import type { EgressCore } from '../src/core.js';
import { Harness } from './harness.js';

describe('egress against the SMSC simulator', () => {
  const h = new Harness();
  let sim: Simulator;
  let flaky: Simulator;
  let core: EgressCore;

  beforeAll(async () => {
    await h.setup();
    sim = createSimulator({
      systemId: 'hub',
      password: 'secret',
      seed: 7,
      acceptLatencyMs: { min: 1, max: 15 },
      errorRates: { [CommandStatus.ESME_RTHROTTLED]: 0.15 },
      receipts: {
        mix: { DELIVRD: 3, UNDELIV: 1 },
        delayMs: { min: 5, max: 80 },
        idStyle: 'decimal',
        pad: 12,
        carrier: 'text',
      },
    });
    flaky = createSimulator({
      systemId: 'hub',
      password: 'secret',
      seed: 9,
      disconnectEvery: 15,
      acceptLatencyMs: { min: 1, max: 5 },
    });
    const { port } = await sim.listen(0);
    const { port: flakyPort } = await flaky.listen(0);
    await h.addConnector({
      id: 'con_sim',
      port,
      sessions: 2,
      maxSubmitRate: 100,
      messageIdFormat: 'hex_resp_decimal_receipt',
    });
    await h.addConnector({ id: 'con_flaky', port: flakyPort, sessions: 2, maxSubmitRate: 200 });
    core = await h.startCore({
      retry: { maxRetriesPerConnector: 6, backoff: { initialMs: 20, maxMs: 200 } },
    });
    await waitFor(
      () => core.connectors.get('con_sim')?.healthy && core.connectors.get('con_flaky')?.healthy,
      { what: 'bound' },
    );
  });
  afterAll(async () => {
    await h.teardown();
    await Promise.all([sim.close(), flaky.close()]);
  });

  it('joins every receipt with its dispatch and retries throttling without duplicates', async () => {
    const ids = await Promise.all(Array.from({ length: 80 }, (_, i) => h.route(['con_sim'], `sim ${i}`)));
    const accepted = (id: string) =>
      h.dispatchesOf(id).find((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED);
    await waitFor(() => ids.every(accepted), { what: 'all accepted', timeoutMs: 20_000 });
    const keys = ids.map((id) => h.topics.dispatched.key(accepted(id)!));
    await waitFor(() => keys.every((k) => h.receipts.some((r) => h.topics.receiptRaw.key(r) === k)), {
      what: 'a receipt for each',
      timeoutMs: 20_000,
    });
    expect(h.receipts.filter((r) => r.connectorId === 'con_sim').every((r) => r.parseError === '')).toBe(
      true,
    );
    const throttledAttempts = ids
      .flatMap((id) => h.dispatchesOf(id))
      .filter((d) => d.commandStatus === CommandStatus.ESME_RTHROTTLED).length;
    console.log(
      `simulator: ${sim.counters.submits} submits, ${sim.counters.accepted} accepted, ${throttledAttempts} throttled attempts retried, ${sim.counters.receiptsAcked} receipts acked, ${sim.counters.duplicates} duplicates`,
    );
    expect(throttledAttempts).toBeGreaterThan(0);
    expect(sim.counters.accepted).toBe(80);
    expect(sim.counters.duplicates).toBe(0);
    expect(sim.counters.receiptsAcked).toBe(sim.counters.receiptsSent);
  });

  it('delivers everything through an SMSC that keeps dropping sessions', async () => {
    const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => h.route(['con_flaky'], `flaky ${i}`)));
    await waitFor(
      () =>
        ids.every((id) =>
          h.dispatchesOf(id).some((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED),
        ),
      {
        what: 'all accepted',
        timeoutMs: 30_000,
      },
    );
    expect(ids.every((id) => !h.dispatchesOf(id).some((d) => d.finalFailure))).toBe(true);
    console.log(
      `flaky simulator: ${flaky.counters.disconnects} disconnects, ${flaky.counters.binds} binds, ${flaky.counters.submits} submits for 60 messages, ${flaky.counters.duplicates} duplicates (answer lost with the session, resent)`,
    );
    expect(flaky.counters.disconnects).toBeGreaterThan(0);
    expect(flaky.counters.binds).toBeGreaterThan(2);
  });
});
