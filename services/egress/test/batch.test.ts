import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { DispatchOutcome, SmsRouted } from '@smshub/contracts';
import { encodeUcs2, findConcat, parseUdh } from '@smshub/smpp';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { FakeSmsc } from './fake-smsc.js';
import { Harness } from './harness.js';

describe('egress: a fetched batch sent as a whole', () => {
  const h = new Harness();
  const smsc = new FakeSmsc();

  beforeAll(async () => {
    await h.setup();
    await h.addConnector({ id: 'con_b', port: await smsc.listen(), sessions: 2, windowSize: 20 });
  });
  afterAll(async () => {
    await h.teardown();
    await smsc.close();
  });

  function routed(messageId: string, i: number, text: string, connectorId = 'con_b'): SmsRouted {
    return SmsRouted.fromPartial({
      message: {
        messageId,
        accountId: 'acc_1',
        customerMessageId: messageId,
        source: { ton: 5, npi: 0, address: 'ACME' },
        destination: { ton: 1, npi: 1, address: `4477002${String(i).padStart(5, '0')}` },
        dataCoding: 8,
        shortMessage: encodeUcs2(text),
        registeredDelivery: 1,
        receivedAt: new Date(),
      },
      candidates: [{ connectorId, ruleId: 'rr_1', reason: 'test' }],
      routedAt: new Date(),
    });
  }

  it('sends every part once, in part order, and a message id repeated in the batch only once', async () => {
    const N = 300;
    const ids: string[] = [];
    const values: SmsRouted[] = [];
    for (let i = 0; i < N; i++) {
      const id = uuidv7();
      ids.push(id);
      // Every 50th message is long (3 UCS2 parts).
      values.push(routed(id, i, i % 50 === 0 ? `long ${i} `.repeat(20) : `batch ${i}`));
    }
    // The same records published again (as an upstream retry would): in the same fetched batches.
    const repeated = ids.filter((_, i) => i % 30 === 1);
    for (const id of repeated) values.push(values[ids.indexOf(id)]!);
    // Everything is in the topic before egress starts, so it arrives in large fetched batches.
    await Promise.all(values.map((v) => h.producer.produce(h.topics.routed, v)));
    const core = await h.startCore();
    await waitFor(() => core.connectors.get('con_b')?.healthy, { what: 'bound' });

    const accepted = (id: string) =>
      h.dispatchesOf(id).filter((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED);
    const parts = (i: number) => (i % 50 === 0 ? 3 : 1);
    await waitFor(
      () => ids.every((id, i) => new Set(accepted(id).map((d) => d.partNumber)).size === parts(i)),
      {
        what: 'every part accepted',
        timeoutMs: 30_000,
      },
    );
    await waitFor(() => repeated.every((id) => accepted(id).length >= 2), {
      what: 'the repeated records answered too',
      timeoutMs: 30_000,
    });

    // Once at the SMSC per part: the repeated records were answered from the dedupe rows, not resent.
    const perPart = new Map<string, number>();
    for (const r of smsc.received) perPart.set(r.key, (perPart.get(r.key) ?? 0) + 1);
    expect([...perPart.values()].filter((n) => n > 1)).toEqual([]);
    expect(smsc.received.length).toBe(ids.reduce((n, _, i) => n + parts(i), 0));
    for (const id of repeated) {
      const supplierIds = new Set(accepted(id).map((d) => d.supplierMessageId));
      expect(supplierIds.size).toBe(1);
    }

    // The parts of a long message reached the SMSC in order.
    for (let i = 0; i < N; i += 50) {
      const dest = `4477002${String(i).padStart(5, '0')}`;
      const seq = smsc.received
        .filter((r) => r.pdu.destination_addr === dest)
        .map((r) => {
          const u = parseUdh(Buffer.from(r.pdu.short_message as Buffer));
          return u.ok ? findConcat(u.elements)?.seq : undefined;
        });
      expect(seq).toEqual([1, 2, 3]);
    }

    // Every part's dedupe row is final with its dispatch event.
    const { rows } = await h.pool.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM egress_part_dispatch WHERE event IS NOT NULL GROUP BY state`,
    );
    expect(rows).toEqual([{ state: 'sent', n: smsc.received.length }]);
    await core.stop();
  });

  it('keeps its group membership through a batch that outlasts the session timeout (TPS-bound supplier)', async () => {
    const slow = new FakeSmsc();
    try {
      await h.addConnector({ id: 'con_slow', port: await slow.listen(), maxSubmitRate: 20, windowSize: 5 });
      // 160 messages at 20/s: about 8 s in one fetched batch, longer than the 6 s session timeout.
      const ids: string[] = [];
      const values: SmsRouted[] = [];
      for (let i = 0; i < 160; i++) {
        const id = uuidv7();
        ids.push(id);
        values.push(routed(id, 50_000 + i, `slow ${i}`, 'con_slow'));
      }
      await Promise.all(values.map((v) => h.producer.produce(h.topics.routed, v)));
      const core = await h.startCore({
        groupId: `${h.group}-slow`,
        consumer: { sessionTimeoutMs: 6000, partitionsConsumedConcurrently: 6 },
      });
      await waitFor(() => ids.every((id) => h.dispatchesOf(id).length > 0), {
        what: 'every slow message dispatched',
        timeoutMs: 60_000,
      });
      // A batch redelivered after an eviction is processed (and its dispatches published) again before its
      // offsets are committed: once egress's group committed past every record, nothing more can come, and
      // once the collector's group committed past every dispatch then published, it holds them all.
      await waitForGroupCommitted({ groupId: `${h.group}-slow`, topic: h.topics.routed.name });
      await waitForGroupCommitted({ groupId: h.watchGroup, topic: h.topics.dispatched.name });
      await core.stop();
      expect(slow.received.length).toBe(160);
      // One dispatch per message: no batch was redelivered and re-published after an eviction.
      expect(ids.filter((id) => h.dispatchesOf(id).length !== 1)).toEqual([]);
    } finally {
      await slow.close();
    }
  }, 90_000);

  it('dead-letters a routed record whose message id is not a UUID, and sends the rest of its batch', async () => {
    const bad = routed('not-a-uuid', 90_001, 'bad id');
    const good = uuidv7();
    await h.producer.produce(h.topics.routed, bad, { key: 'not-a-uuid' });
    await h.producer.produce(h.topics.routed, routed(good, 90_002, 'good id'));
    const core = await h.startCore();
    await waitFor(
      () => h.dispatchesOf(good).some((d) => d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED),
      { what: 'the good record sent', timeoutMs: 30_000 },
    );
    // The two records have different keys, so possibly different partitions: the good one sent says nothing
    // about the bad one until the group has committed past both.
    await waitForGroupCommitted({ groupId: h.group, topic: h.topics.routed.name });
    expect(smsc.received.filter((r) => r.pdu.destination_addr === '447700290001')).toEqual([]);
    await core.stop();
  });
});
