// The join stage writes a batch's dispatch index, timeline and parked rows as one statement, unless the
// batch has too many rows for one statement's parameters (more than ~3,000 index or parked rows): then it
// writes them in a transaction, a statement per table, in chunks of 500 rows. Here the limit is 0
// (joinStatementMaxParams), so every batch with an index or parked row takes that path (the backlog below
// makes batches of ~600 dispatches: two chunks), and each message must still reach its final state exactly
// once: receipts parked before their dispatch, and receipts that find their dispatch only through
// dlr_dispatch_index (after a restart emptied the cache). Checked: with the fallback skipping its index
// rows, the receipts of part B are never joined.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();
const CONNECTOR = 'con_fallback';

beforeAll(async () => {
  await h.setup({ joinStatementMaxParams: 0 });
});

afterAll(async () => {
  await h.teardown();
});

const count = async (sql: string, values: unknown[] = []): Promise<number> =>
  Number((await h.pool.query<{ n: string }>(sql, values)).rows[0]?.n);

describe('join-stage write: the transaction fallback', () => {
  it('indexes every dispatch and joins every receipt once, parked first or found through the index', async () => {
    const supplierId = (i: number) => String(70_000_000 + i);
    const dispatch = (hubId: string, i: number) =>
      h.dispatch({ hubId }, { connectorId: CONNECTOR, supplierId: supplierId(i), normalised: supplierId(i) });
    const receipt = (i: number) =>
      h.receipt({ connectorId: CONNECTOR, textId: supplierId(i), normalised: supplierId(i) });

    // A: receipts before their dispatches (parked in the fallback's transaction, joined when they come).
    const parkedFirst = Array.from({ length: 200 }, () => uuidv7());
    await Promise.all(parkedFirst.map((hubId) => h.submit({ hubId })));
    await Promise.all(parkedFirst.map((_, i) => receipt(i)));
    await waitFor(async () => (await count('SELECT count(*) AS n FROM dlr_parked_receipts')) === 200, {
      what: '200 receipts parked',
      timeoutMs: 30_000,
    });
    await Promise.all(parkedFirst.map((hubId, i) => dispatch(hubId, i)));
    await waitFor(() => parkedFirst.every((id) => h.finals(id).length > 0), {
      what: 'the parked receipts joined',
      timeoutMs: 30_000,
    });

    // B: dispatches produced while dlr is stopped, so it reads them as a backlog (large batches), then a
    // restart empties its cache: their receipts find them only through the index rows the fallback wrote.
    const indexed = Array.from({ length: 1200 }, () => uuidv7());
    const offset = parkedFirst.length;
    await Promise.all(indexed.map((hubId) => h.submit({ hubId })));
    await h.dlr.stop();
    await Promise.all(indexed.map((hubId, i) => dispatch(hubId, offset + i)));
    await h.startDlr();
    await h.waitCaughtUp(h.topics.dispatched.name, 60_000);
    expect(await count('SELECT count(*) AS n FROM dlr_dispatch_index')).toBe(1400);
    await h.restartDlr();
    await Promise.all(indexed.map((_, i) => receipt(offset + i)));
    await waitFor(() => indexed.every((id) => h.finals(id).length > 0), {
      what: 'the receipts joined through the index',
      timeoutMs: 60_000,
    });

    // A later message's final marks that everything produced before it was handled.
    const later = uuidv7();
    await h.submit({ hubId: later });
    await dispatch(later, 999_999);
    await receipt(999_999);
    await h.waitFinal(later);

    const all = [...parkedFirst, ...indexed];
    for (const id of all) {
      const finals = h.finals(id);
      expect(finals, id).toHaveLength(1);
      expect(finals[0]?.status, id).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    }
    // A parked receipt joined by its dispatch (claimParked) is unparked in the claim's transaction, which
    // commits after the delivery it caused was produced: the last final can be seen a moment before.
    await waitFor(async () => (await count('SELECT count(*) AS n FROM dlr_parked_receipts')) === 0, {
      what: 'every parked receipt unparked',
      timeoutMs: 10_000,
    });
    expect(h.deadLetters).toEqual([]);
    expect(
      await count('SELECT count(*) AS n FROM dlr_messages WHERE final AND message_id = ANY($1::uuid[])', [
        all,
      ]),
    ).toBe(all.length);
    // the join stage's timeline events: one dispatch (in its index row: DISPATCH_EVENT_IN_INDEX) and one
    // receipt (in its delivery's row: RECEIPT_IN_DELIVERY) of each message
    expect(
      await count(
        `SELECT count(*) AS n FROM dlr_timeline
          WHERE (kind = 'receipt' OR receipt IS NOT NULL) AND message_id = ANY($1::uuid[])`,
        [all],
      ),
    ).toBe(all.length);
    expect(
      await count(
        `SELECT count(*) AS n FROM dlr_dispatch_index WHERE payload IS NOT NULL AND message_id = ANY($1::uuid[])`,
        [all],
      ),
    ).toBe(all.length);
    expect(
      await count(
        `SELECT count(*) AS n FROM dlr_timeline WHERE kind = 'dispatched' AND message_id = ANY($1::uuid[])`,
        [all],
      ),
    ).toBe(0);
  }, 240_000);
});
