// Message rows keep the reducer state compact in `state_json` (migration 0402, src/stored-state.ts); rows
// written whole in the jsonb `state` (by a dlr before 0402, or with DLR_STATE_FORMAT=jsonb) must go on as
// if nothing changed when a dlr of this version takes over: the message in flight is delivered once, with
// its parts, and a duplicate receipt of a message final before the switch produces nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '@smshub/contracts';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  await h.setup({ stateFormat: 'jsonb' });
});

afterAll(async () => {
  await h.teardown();
});

async function stored(hubId: string): Promise<{ whole: boolean; compact: boolean }> {
  const r = await h.pool.query<{ whole: boolean; compact: boolean }>(
    `SELECT state IS NOT NULL AS whole, state_json IS NOT NULL AS compact FROM dlr_messages
      WHERE message_id = $1`,
    [hubId],
  );
  const row = r.rows[0];
  if (row === undefined) throw new Error(`no row for ${hubId}`);
  return row;
}

describe('stored state formats', () => {
  it('a dlr writing compact states carries on messages whose state was stored whole', async () => {
    const inFlight = uuidv7();
    const done = uuidv7();
    await h.submit({ hubId: inFlight });
    await h.submit({ hubId: done });
    await h.dispatch({ hubId: inFlight }, { connectorId: 'con_sf', supplierId: '3A00', normalised: '14848' });
    await h.dispatch({ hubId: done }, { connectorId: 'con_sf', supplierId: '3A01', normalised: '14849' });
    await h.receipt({ connectorId: 'con_sf', textId: '14849', normalised: '14849' });
    expect((await h.waitFinal(done)).status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    await waitFor(async () => (await h.row(inFlight)) !== undefined, { what: 'the in-flight row' });
    expect(await stored(inFlight)).toEqual({ whole: true, compact: false });
    expect(await stored(done)).toEqual({ whole: true, compact: false });

    h.options = { ...h.options, stateFormat: 'compact' };
    await h.restartDlr();

    await h.receipt({ connectorId: 'con_sf', textId: '14848', normalised: '14848' });
    await h.receipt({ connectorId: 'con_sf', textId: '14849', normalised: '14849' }); // a duplicate
    const final = await h.waitFinal(inFlight);
    expect(final).toMatchObject({ status: DeliveryStatus.DELIVERY_STATUS_DELIVERED, revision: 1 });
    expect(final.parts.map((p) => [p.partNumber, p.supplierMessageId, p.connectorId])).toEqual([
      [1, '3A00', 'con_sf'],
    ]);
    expect(await stored(inFlight)).toEqual({ whole: false, compact: true });
    expect(await h.row(inFlight)).toMatchObject({ final: true, revision: 1, parts_delivered: 1 });

    await h.waitCaughtUp(h.topics.receiptRaw.name);
    await waitForGroupCommitted({ groupId: h.deliveriesGroup, topic: h.topics.delivery.name });
    expect(h.finals(done)).toHaveLength(1);
    expect(h.finals(inFlight)).toHaveLength(1);
    const message = await h.getMessage({ messageId: inFlight });
    expect(message.timeline.map((e) => e.event?.$case)).toEqual([
      'submitted',
      'dispatched',
      'receipt',
      'delivery',
    ]);
  });
});
