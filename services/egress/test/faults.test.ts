import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeAction, DispatchOutcome, ResourceKind } from '@smshub/contracts';
import { CommandStatus as S } from '@smshub/smpp';
import { metricsRegistry } from '@smshub/telemetry';
import { waitFor } from '@smshub/testing';
import type { EgressCore } from '../src/core.js';
import { FakeSmsc } from './fake-smsc.js';
import { Harness } from './harness.js';

describe('egress: retry, failover, timeouts, reconnect, config changes', () => {
  const h = new Harness();
  const a = new FakeSmsc();
  const b = new FakeSmsc();
  let core: EgressCore;
  /** Scripted answers of SMSC A per destination: a list consumed one submit at a time (last one repeats). */
  const scriptA = new Map<string, Array<{ status?: number; silent?: boolean }>>();
  const scriptB = new Map<string, Array<{ status?: number; silent?: boolean }>>();
  const play = (script: typeof scriptA) => (pdu: { destination_addr?: string }) => {
    const list = script.get(pdu.destination_addr ?? '');
    if (!list?.length) return {};
    return list.length > 1 ? list.shift()! : list[0]!;
  };
  const countAt = (smsc: FakeSmsc, dest: string) =>
    smsc.received.filter((r) => r.pdu.destination_addr === dest).length;

  beforeAll(async () => {
    await h.setup();
    a.answer = play(scriptA);
    b.answer = play(scriptB);
    await h.addConnector({ id: 'con_a', port: await a.listen(), responseTimeoutMs: 300 });
    await h.addConnector({ id: 'con_b', port: await b.listen() });
    core = await h.startCore({
      retry: { maxRetriesPerConnector: 2, backoff: { initialMs: 30, maxMs: 100 } },
    });
    await waitFor(() => core.connectors.get('con_a')?.healthy && core.connectors.get('con_b')?.healthy, {
      what: 'bound',
    });
  });
  afterAll(async () => {
    await h.teardown();
    await Promise.all([a.close(), b.close()]);
  });

  it('retries throttling on the same connector, then succeeds there', async () => {
    scriptA.set('447700000001', [{ status: S.ESME_RTHROTTLED }, { status: S.ESME_RTHROTTLED }, {}]);
    const id = await h.route(['con_a', 'con_b'], 'x', {
      destination: { ton: 1, npi: 1, address: '447700000001' },
    });
    await waitFor(
      () => h.dispatchesOf(id).some((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED),
      { what: 'accepted' },
    );
    const ds = h.dispatchesOf(id).sort((x, y) => x.attempt - y.attempt);
    expect(ds.map((d) => [d.attempt, d.connectorId, d.outcome, d.commandStatus, d.finalFailure])).toEqual([
      [1, 'con_a', DispatchOutcome.DISPATCH_OUTCOME_REJECTED, S.ESME_RTHROTTLED, false],
      [2, 'con_a', DispatchOutcome.DISPATCH_OUTCOME_REJECTED, S.ESME_RTHROTTLED, false],
      [3, 'con_a', DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED, 0, false],
    ]);
    expect(countAt(b, '447700000001')).toBe(0);
  });

  it('fails over to the next candidate on a permanent error', async () => {
    scriptA.set('447700000002', [{ status: S.ESME_RINVDSTADR }]);
    const id = await h.route(['con_a', 'con_b'], 'x', {
      destination: { ton: 1, npi: 1, address: '447700000002' },
    });
    await waitFor(() => h.dispatchesOf(id).length === 2, { what: 'two attempts' });
    const ds = h.dispatchesOf(id).sort((x, y) => x.attempt - y.attempt);
    expect(ds.map((d) => [d.attempt, d.connectorId, d.candidateIndex, d.outcome])).toEqual([
      [1, 'con_a', 0, DispatchOutcome.DISPATCH_OUTCOME_REJECTED],
      [2, 'con_b', 1, DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED],
    ]);
    expect(countAt(a, '447700000002')).toBe(1);
  });

  it('fails the message with the last status when every candidate is exhausted', async () => {
    scriptA.set('447700000003', [{ status: S.ESME_RMSGQFUL }]);
    scriptB.set('447700000003', [{ status: S.ESME_RINVDSTADR }]);
    const id = await h.route(['con_a', 'con_b'], 'x', {
      destination: { ton: 1, npi: 1, address: '447700000003' },
    });
    await waitFor(() => h.dispatchesOf(id).some((d) => d.finalFailure), { what: 'final failure' });
    const ds = h.dispatchesOf(id).sort((x, y) => x.attempt - y.attempt);
    expect(ds.map((d) => [d.connectorId, d.commandStatus, d.finalFailure])).toEqual([
      ['con_a', S.ESME_RMSGQFUL, false],
      ['con_a', S.ESME_RMSGQFUL, false],
      ['con_a', S.ESME_RMSGQFUL, false],
      ['con_b', S.ESME_RINVDSTADR, true],
    ]);
    expect(ds.at(-1)!.errorDetail).toMatch(/ESME_RINVDSTADR/);
  });

  it('retries response timeouts on the same connector, then fails over', async () => {
    scriptA.set('447700000004', [{ silent: true }]);
    const id = await h.route(['con_a', 'con_b'], 'x', {
      destination: { ton: 1, npi: 1, address: '447700000004' },
    });
    await waitFor(
      () => h.dispatchesOf(id).some((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED),
      { what: 'accepted on B', timeoutMs: 10_000 },
    );
    const ds = h.dispatchesOf(id).sort((x, y) => x.attempt - y.attempt);
    expect(ds.map((d) => [d.connectorId, d.outcome])).toEqual([
      ['con_a', DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT],
      ['con_a', DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT],
      ['con_a', DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT],
      ['con_b', DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED],
    ]);
    expect(ds[0]!.respondedAt).toBeUndefined();
    expect(ds[0]!.submittedAt).toBeInstanceOf(Date);
    expect(countAt(a, '447700000004')).toBe(3);
  });

  it('skips an unbound candidate, and fails NOT_SENT when none gets bound in time', async () => {
    const id = await h.route(['con_dead', 'con_b'], 'x', {
      destination: { ton: 1, npi: 1, address: '447700000007' },
    });
    const d = await waitFor(() => h.dispatchesOf(id)[0], { what: 'dispatch' });
    expect([d.connectorId, d.candidateIndex, d.attempt, d.outcome]).toEqual([
      'con_b',
      1,
      1,
      DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
    ]);
    const lost = await h.route(['con_dead'], 'x', {
      destination: { ton: 1, npi: 1, address: '447700000008' },
    });
    const f = await waitFor(() => h.dispatchesOf(lost)[0], { what: 'NOT_SENT', timeoutMs: 10_000 });
    expect([f.connectorId, f.outcome, f.finalFailure]).toEqual([
      'con_dead',
      DispatchOutcome.DISPATCH_OUTCOME_NOT_SENT,
      true,
    ]);
    expect(f.submittedAt).toBeUndefined();
  });

  it('does not send a message whose validity has ended', async () => {
    const id = await h.route(['con_a'], 'late', {
      destination: { ton: 1, npi: 1, address: '447700000009' },
      validityUntil: new Date(Date.now() - 1000),
    });
    const d = await waitFor(() => h.dispatchesOf(id)[0], { what: 'EXPIRED' });
    expect([d.outcome, d.finalFailure]).toEqual([DispatchOutcome.DISPATCH_OUTCOME_EXPIRED, true]);
    expect(countAt(a, '447700000009')).toBe(0);
  });

  it('counts submits by status, throttling and timeouts per connector', async () => {
    const text = await metricsRegistry.metrics();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    expect(value(/smshub_egress_throttled_total\{connector="con_a"\} (\d+)/)).toBeGreaterThanOrEqual(5);
    expect(
      value(/smshub_egress_submits_total\{connector="con_a",status="timeout"\} (\d+)/),
    ).toBeGreaterThanOrEqual(3);
    expect(
      value(/smshub_egress_submits_total\{connector="con_b",status="ESME_ROK"\} (\d+)/),
    ).toBeGreaterThanOrEqual(2);
    expect(value(/smshub_egress_submits_total\{connector="con_b",status="ESME_RINVDSTADR"\} (\d+)/)).toBe(1);
    expect(text).toMatch(/smshub_egress_window_in_use\{connector="con_a"\} \d+/);
    expect(text).toMatch(/smshub_egress_tps\{connector="con_a"\} \d+/);
  });

  it('reconnects after the SMSC drops the link; a message sent meanwhile goes once it is back', async () => {
    const bindsBefore = a.binds.length;
    a.dropAll();
    await waitFor(() => !core.connectors.get('con_a')!.healthy || a.binds.length > bindsBefore, {
      what: 'link down',
    });
    const id = await h.route(['con_a'], 'after the drop', {
      destination: { ton: 1, npi: 1, address: '447700000005' },
    });
    await waitFor(() => a.binds.length > bindsBefore, { what: 'rebind' });
    const d = await waitFor(
      () => h.dispatchesOf(id).find((x) => x.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED),
      { what: 'sent after reconnect' },
    );
    expect(d.connectorId).toBe('con_a');
    expect(countAt(a, '447700000005')).toBe(1);
  });

  it('applies connector changes from config.changes.v1 (disable, then enable again)', async () => {
    const store = core.connectorStore;
    const cur = (await store.load('con_a'))!;
    await store.upsert({ ...cur, enabled: false });
    const change = (action: ChangeAction) =>
      h.producer.produce(h.topics.configChanges, {
        changeId: 'c1',
        kind: ResourceKind.RESOURCE_KIND_CONNECTOR,
        resourceId: 'con_a',
        action,
        revision: 2n,
        changedAt: new Date(),
        actor: 'test',
        snapshot: undefined,
      });
    await change(ChangeAction.CHANGE_ACTION_UPDATED);
    await waitFor(
      () => core.connectors.get('con_a')?.config.enabled === false && a.boundSessions().length === 0,
      { what: 'con_a disabled and unbound' },
    );
    const id = await h.route(['con_a', 'con_b'], 'x', {
      destination: { ton: 1, npi: 1, address: '447700000006' },
    });
    const d = await waitFor(() => h.dispatchesOf(id)[0], { what: 'dispatch' });
    expect(d.connectorId).toBe('con_b');
    await store.upsert({ ...cur, enabled: true });
    await change(ChangeAction.CHANGE_ACTION_UPDATED);
    await waitFor(() => core.connectors.get('con_a')?.healthy, { what: 'con_a bound again' });
    await store.delete('con_a');
    await change(ChangeAction.CHANGE_ACTION_DELETED);
    await waitFor(() => core.connectors.get('con_a') === undefined && a.boundSessions().length === 0, {
      what: 'con_a removed',
    });
  });
});
