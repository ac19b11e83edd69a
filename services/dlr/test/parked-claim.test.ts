// A parked receipt is joined by whoever claims it: the dispatch that answers it, or the sweep, never both.
// The dispatch's index row is committed before it looks for parked receipts, so the sweep can see the same
// receipt at the same moment; unclaimed, both wrote its timeline row and deleted its parked row, and two
// such transactions deadlocked (seen in the end-to-end benchmark: each cost a batch a second's wait and a
// retry). Here a test transaction holds the parked row, as a concurrent sweep would: the dispatch's batch
// must go on without it, and the receipt is joined once, after the holder lets go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '@smshub/contracts';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  await h.setup();
});

afterAll(async () => {
  await h.teardown();
});

describe('parked receipts: one claimer', () => {
  it('a dispatch skips a parked receipt another transaction holds; the receipt is joined once, later', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    const receiptId = await h.receipt({ connectorId: 'con_claim', textId: '445566', normalised: '445566' });
    await waitFor(
      async () =>
        (await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]))
          .rowCount === 1,
      { what: 'the receipt to be parked' },
    );

    const holder = await h.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1 FOR UPDATE', [receiptId]);
      await h.dispatch({ hubId }, { connectorId: 'con_claim', supplierId: '445566', normalised: '445566' });
      // The dispatch's batch finishes (its offset is committed) while the row is held: it did not wait
      // on the row, and did not join the receipt it could not claim.
      await waitForGroupCommitted({ groupId: h.groupId, topic: h.topics.dispatched.name });
      expect(h.finals(hubId)).toEqual([]);
      const parked = await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [
        receiptId,
      ]);
      expect(parked.rowCount).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }

    // Let go: the sweep (every 250 ms here) claims it, its dispatch now indexed, and joins it.
    const final = await h.waitFinal(hubId);
    expect(final.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    await waitFor(
      async () =>
        (await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]))
          .rowCount === 0,
      { what: 'the parked row to go' },
    );
    // A later message's final, through the same path, marks that everything before it was handled.
    const later = uuidv7();
    await h.submit({ hubId: later });
    await h.dispatch(
      { hubId: later },
      { connectorId: 'con_claim', supplierId: '445567', normalised: '445567' },
    );
    await h.receipt({ connectorId: 'con_claim', textId: '445567', normalised: '445567' });
    await h.waitFinal(later);
    expect(h.finals(hubId)).toHaveLength(1);
    expect(h.deadLetters.filter((x) => x.receiptId === receiptId)).toEqual([]);
  });
});
