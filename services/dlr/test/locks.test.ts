// The aggregation stage takes a message's advisory lock with its transaction's BEGIN (one round trip) and
// reads the message's row in the next statement: while another transaction (another instance, e.g. during a
// rebalance) holds the lock, it waits, and then reads what that transaction committed, not the row as it
// was when it started waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { lockKey } from '../src/sql.js';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  await h.setup();
});

afterAll(async () => {
  await h.teardown();
});

describe('message locks', () => {
  it('waits for the holder of a message lock and then reads the row it committed', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await waitFor(async () => (await h.row(hubId)) !== undefined, { what: 'the message row' });
    const before = await h.row(hubId);

    const holder = await h.pool.connect();
    let released = false;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(hubId)]);
      // what the holder writes: only a reader that took the lock before reading sees it
      await holder.query('UPDATE dlr_messages SET revision = revision + 10 WHERE message_id = $1', [hubId]);
      await h.dispatch({ hubId }, { connectorId: 'con_lock', supplierId: '7A7A7A', normalised: '8026746' });
      await h.receipt({ connectorId: 'con_lock', tlvId: '7A7A7A', textId: '8026746', normalised: '8026746' });
      // the receipt's part state reaches the aggregation stage, which waits for the lock
      await waitFor(
        async () =>
          (
            await h.pool.query(
              `SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()`,
            )
          ).rowCount === 1,
        { what: 'the aggregation stage waiting for the message lock' },
      );
      expect(h.finals(hubId)).toEqual([]);
      await holder.query('COMMIT');
      released = true;
    } finally {
      if (!released) await holder.query('ROLLBACK');
      holder.release();
    }

    const final = await h.waitFinal(hubId);
    expect(final.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    // the revision continues from the holder's committed row
    expect(final.revision).toBe((before?.revision ?? 0) + 10 + 1);
    expect((await h.row(hubId))?.revision).toBe((before?.revision ?? 0) + 11);
  });
});
