// An accepted dispatch's timeline event is kept in its dlr_dispatch_index row (migration 0404,
// DISPATCH_EVENT_IN_INDEX in src/joiner.ts), not in a dlr_timeline row of its own. GetMessage must answer as
// before: for messages whose dispatch events a dlr before 0404 (or DLR_DISPATCH_EVENT=timeline) wrote to
// dlr_timeline, for a dispatch read again after a crash (its index row exists: the event goes to dlr_timeline,
// shown once), and for another attempt to which the supplier gave the same id (a second event, shown).
// A joined receipt's timeline event is written by the aggregation stage's transaction that applies its part
// state (RECEIPT_ROW in src/joiner.ts), in the row of the delivery it causes (migration 0405,
// RECEIPT_IN_DELIVERY in src/aggregator.ts); receipts in rows of their own (before 0405) are read as well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, DispatchOutcome } from '@smshub/contracts';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  // as a dlr before migration 0404 wrote them
  await h.setup({ dispatchEvent: 'timeline', receiptEvent: 'timeline' });
});

afterAll(async () => {
  await h.teardown();
});

async function where(hubId: string): Promise<{ timeline: number; index: number }> {
  const r = await h.pool.query<{ timeline: string; index: string }>(
    `SELECT (SELECT count(*) FROM dlr_timeline WHERE message_id = $1 AND kind = 'dispatched') AS timeline,
            (SELECT count(*) FROM dlr_dispatch_index WHERE message_id = $1 AND payload IS NOT NULL) AS index`,
    [hubId],
  );
  const row = r.rows[0];
  return { timeline: Number(row?.timeline), index: Number(row?.index) };
}

/** The dispatch events of the message's timeline (GetMessage): connector, attempt, supplier id. */
async function dispatches(hubId: string): Promise<[string, number, string][]> {
  const res = await h.getMessage({ messageId: hubId });
  return res.timeline.flatMap((e) =>
    e.event?.$case === 'dispatched'
      ? [[e.event.value.connectorId, e.event.value.attempt, e.event.value.supplierMessageId]]
      : [],
  );
}

describe('dispatch events kept in the dispatch index', () => {
  it('reads events of both places, once each, across the switch and a crash', async () => {
    const before = uuidv7(); // dispatched and final before the switch
    const across = uuidv7(); // dispatched before the switch, receipt after
    await h.submit({ hubId: before });
    await h.submit({ hubId: across });
    await h.dispatch({ hubId: before }, { connectorId: 'con_de', supplierId: '5C00', normalised: '23552' });
    await h.dispatch({ hubId: across }, { connectorId: 'con_de', supplierId: '5C01', normalised: '23553' });
    await h.receipt({ connectorId: 'con_de', textId: '23552', normalised: '23552' });
    await h.waitFinal(before);
    await waitFor(async () => (await where(across)).timeline === 1, { what: 'the dispatch of `across`' });
    expect(await where(before)).toEqual({ timeline: 1, index: 0 });

    h.options = { ...h.options, dispatchEvent: 'index', receiptEvent: 'delivery' };
    // a crash: the new instance reads every dispatch again (their index rows exist already)
    await h.restartDlr([h.topics.dispatched.name]);
    const after = uuidv7();
    await h.submit({ hubId: after });
    // a first attempt that timed out (not indexed), then an accepted one
    await h.dispatch(
      { hubId: after },
      { connectorId: 'con_de', outcome: DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT, attempt: 1 },
    );
    await h.dispatch(
      { hubId: after },
      { connectorId: 'con_de', supplierId: '5C02', normalised: '23554', attempt: 2 },
    );
    await h.receipt({ connectorId: 'con_de', textId: '23553', normalised: '23553' });
    await h.receipt({ connectorId: 'con_de', textId: '23554', normalised: '23554' });
    expect((await h.waitFinal(across)).status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect((await h.waitFinal(after)).status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    await h.waitCaughtUp(h.topics.dispatched.name);

    // the accepted attempt's event is in its index row; the refused one has its timeline row
    expect(await where(after)).toEqual({ timeline: 1, index: 1 });
    // the dispatches read again found their index rows: their events stay in dlr_timeline
    expect(await where(before)).toEqual({ timeline: 1, index: 0 });
    expect(await where(across)).toEqual({ timeline: 1, index: 0 });

    const kinds = async (id: string) =>
      (await h.getMessage({ messageId: id })).timeline.map((e) => e.event?.$case);
    for (const id of [before, across])
      expect(await kinds(id), id).toEqual(['submitted', 'dispatched', 'receipt', 'delivery']);
    expect(await kinds(after)).toEqual(['submitted', 'dispatched', 'dispatched', 'receipt', 'delivery']);
    expect(await dispatches(after)).toEqual([
      ['con_de', 1, ''],
      ['con_de', 2, '5C02'],
    ]);
    await waitForGroupCommitted({ groupId: h.deliveriesGroup, topic: h.topics.delivery.name });
    for (const id of [before, across, after]) expect(h.finals(id), id).toHaveLength(1);
  });

  it('a dispatch read twice is one event; another attempt with the same supplier id is a second one', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    const dispatch = (attempt: number) =>
      h.dispatch({ hubId }, { connectorId: 'con_dd', supplierId: '6D00', normalised: '27904', attempt });
    await dispatch(1);
    await dispatch(1); // a redelivery: the same index row, the same event
    await dispatch(2); // the supplier answered a second attempt with the same id: the same index row
    await h.waitCaughtUp(h.topics.dispatched.name);
    // one index row (with the first event); the second attempt's event in dlr_timeline (and the
    // redelivered one's, when it came in a batch of its own and found the index row)
    expect((await where(hubId)).index).toBe(1);
    const second = await h.pool.query(
      `SELECT 1 FROM dlr_timeline WHERE message_id = $1 AND event_key = 'dispatch/0/2/con_dd'`,
      [hubId],
    );
    expect(second.rowCount).toBe(1);
    expect(await dispatches(hubId)).toEqual([
      ['con_dd', 1, '6D00'],
      ['con_dd', 2, '6D00'],
    ]);
    await h.receipt({ connectorId: 'con_dd', textId: '27904', normalised: '27904' });
    expect((await h.waitFinal(hubId)).status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
  });

  it('writes a receipt’s timeline event in its delivery’s row, in the transaction of its part state', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await h.dispatch({ hubId }, { connectorId: 'con_rr', supplierId: '7E00', normalised: '32256' });
    await h.receipt({ connectorId: 'con_rr', textId: '32256', normalised: '32256' });
    await h.waitFinal(hubId);
    const rows = async () =>
      (
        await h.pool.query<{ kind: string; tx: string; folded: boolean }>(
          `SELECT kind, xmin::text AS tx, receipt IS NOT NULL AS folded FROM dlr_timeline
            WHERE message_id = $1 AND kind IN ('receipt', 'delivery')
           UNION ALL SELECT 'row', xmin::text, false FROM dlr_messages WHERE message_id = $1 ORDER BY 1`,
          [hubId],
        )
      ).rows;
    const first = await waitFor(async () => ((await rows()).length === 2 ? rows() : undefined), {
      what: 'the delivery and message rows',
    });
    expect(first.map((r) => [r.kind, r.folded])).toEqual([
      ['delivery', true],
      ['row', false],
    ]);
    expect(new Set(first.map((r) => r.tx)).size).toBe(1);

    // a duplicate receipt (another receipt id) changes nothing and has a row of its own
    await h.receipt({ connectorId: 'con_rr', textId: '32256', normalised: '32256' });
    await waitFor(async () => (await rows()).filter((r) => r.kind === 'receipt').length === 1, {
      what: 'the duplicate receipt in the timeline',
    });
    expect((await h.getMessage({ messageId: hubId })).timeline.map((e) => e.event?.$case)).toEqual([
      'submitted',
      'dispatched',
      'receipt',
      'delivery',
      'receipt',
    ]);
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    await waitForGroupCommitted({ groupId: h.deliveriesGroup, topic: h.topics.delivery.name });
    expect(h.finals(hubId)).toHaveLength(1);
  });
});
