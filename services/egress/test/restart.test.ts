import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DispatchOutcome } from '@smshub/contracts';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { FakeSmsc } from './fake-smsc.js';
import { Harness } from './harness.js';

describe('egress: no double send across an abrupt restart', () => {
  const h = new Harness();
  const smsc = new FakeSmsc();

  beforeAll(async () => {
    await h.setup();
    // Slow answers keep submits in flight when the crash comes.
    smsc.acceptLatencyMs = 40;
    await h.addConnector({
      id: 'con_a',
      port: await smsc.listen(),
      sessions: 2,
      windowSize: 5,
      maxSubmitRate: 30,
    });
  });
  afterAll(async () => {
    await h.teardown();
    await smsc.close();
  });

  it('sends every part at most once when the core dies mid-load and another takes over', async () => {
    const N = 150;
    const first = await h.startCore();
    await waitFor(() => first.connectors.get('con_a')?.healthy, { what: 'bound' });
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      ids.push(
        await h.route(['con_a'], `restart ${i}`, {
          destination: { ton: 1, npi: 1, address: `4477001${String(i).padStart(5, '0')}` },
        }),
      );
    }
    await waitFor(() => smsc.received.length >= 50, {
      what: '50 submits before the crash',
      timeoutMs: 20_000,
    });
    // Abrupt: SMPP sockets dropped, consumer gone without finishing or committing the batch in hand.
    await first.crash();
    const atCrash = smsc.received.length;
    expect(atCrash).toBeLessThan(N);

    const second = await h.startCore();
    await waitFor(() => second.connectors.get('con_a')?.healthy, { what: 'second core bound' });
    // Every message ends with an accepted dispatch, or an "unknown" one for a part that was in flight.
    const settled = (id: string) =>
      h
        .dispatchesOf(id)
        .some(
          (d) =>
            d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED ||
            (d.outcome === DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT && /not resent/.test(d.errorDetail)),
        );
    await waitFor(() => ids.every(settled), { what: 'every message settled', timeoutMs: 30_000 });
    // Nothing more can be sent or published once the group committed past every routed record, and the
    // collector holds every dispatch once it committed past what was published by then.
    await waitForGroupCommitted({ groupId: h.group, topic: h.topics.routed.name });
    await waitForGroupCommitted({ groupId: h.watchGroup, topic: h.topics.dispatched.name });

    const perDest = new Map<string, number>();
    for (const r of smsc.received) perDest.set(r.key, (perDest.get(r.key) ?? 0) + 1);
    const duplicates = [...perDest.values()].filter((n) => n > 1).length;
    const unknown = ids.filter((id) => h.dispatchesOf(id).some((d) => /not resent/.test(d.errorDetail)));
    const republished = ids.filter(
      (id) =>
        h.dispatchesOf(id).filter((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED).length > 1,
    );
    console.log(
      `restart: ${N} messages, ${atCrash} submits before the crash, ${smsc.received.length} submits in all, ` +
        `${duplicates} duplicates, ${unknown.length} reported unknown (in flight at the crash), ${republished.length} re-published from the dedupe record`,
    );
    expect(duplicates).toBe(0);
    // Each message reached the SMSC once, except in-flight ones reported unknown that never got written.
    expect(
      perDest.size +
        unknown.filter(
          (id) =>
            !smsc.received.some(
              (r) => r.pdu.destination_addr === h.dispatchesOf(id)[0]?.context?.destination?.address,
            ),
        ).length,
    ).toBe(N);
    // The redelivered batch was really processed again: sent parts were re-published, not resent.
    expect(republished.length + unknown.length).toBeGreaterThan(0);
    // A re-published dispatch is the stored event: same supplier id and key.
    for (const id of republished) {
      const acc = h.dispatchesOf(id).filter((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED);
      expect(new Set(acc.map((d) => h.topics.dispatched.key(d))).size).toBe(1);
    }
    await second.stop();
  });
});
