// ingress_message_state over real PostgreSQL (migration 0122, issue 17): a message's final state overwrites
// its ENROUTE row as a HOT update (same page, no new index entries) because its expiry stays as it was when
// the new one is less than an hour later; an expiry that moves further is written; an expired row is purged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createTestDatabase, waitFor, type TestDatabase } from '@smshub/testing';
import { MessageState } from '@smshub/smpp';
import { EXPIRY_SLACK_SECONDS, ReceiptStore, type MessageStateUpdate } from '../src/receipt-store.js';
import type { PendingReceipt } from '../src/receipts.js';

describe('ingress_message_state: final states as HOT updates', () => {
  let db: TestDatabase;
  let pool: Pool;
  let dir = '';
  let store: ReceiptStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool({ connectionString: db.url, max: 2 });
    dir = await mkdtemp(path.join(tmpdir(), 'ingress-state-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
      if (/^\d{4}_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
    await migrate(pool, { dir });
    store = new ReceiptStore(pool);
  });
  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const final = (id: string, expiresAt: Date): MessageStateUpdate => ({
    systemId: 'cust',
    customerMessageId: id,
    messageId: id,
    messageState: MessageState.DELIVERED,
    finalDate: new Date(),
    errorCode: 0,
    revision: 2,
    expiresAt,
  });
  const rowsOf = async (ids: string[]) =>
    (
      await pool.query<{ id: string; message_state: number; expires_at: Date }>(
        `SELECT customer_message_id AS id, message_state, expires_at FROM ingress_message_state
          WHERE system_id = 'cust' AND customer_message_id = ANY($1) ORDER BY customer_message_id`,
        [ids],
      )
    ).rows;

  it('keeps the accepted expiry when the final one is less than an hour later, and updates in place', async () => {
    const accepted = new Date(Date.now() + 3 * 24 * 3600_000);
    const ids = Array.from({ length: 40 }, () => randomUUID()).sort();
    await store.insertAccepted(
      ids.map((id) => ({ systemId: 'cust', customerMessageId: id, messageId: id, expiresAt: accepted })),
    );
    const later = new Date(accepted.getTime() + 10 * 60_000);
    await store.upsertStates(ids.map((id) => final(id, later)));

    const rows = await rowsOf(ids);
    expect(rows.map((r) => r.message_state)).toEqual(ids.map(() => MessageState.DELIVERED));
    expect(rows.map((r) => r.expires_at.getTime())).toEqual(ids.map(() => accepted.getTime()));
    // Every one of the 40 updates was HOT (the counters reach the statistics views a moment later).
    const stats = await waitFor(
      async () => {
        const { rows: s } = await pool.query<{ upd: string; hot: string }>(
          `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'ingress_message_state'`,
        );
        return Number(s[0]?.upd ?? 0) >= ids.length ? s[0] : undefined;
      },
      { what: 'the updates counted in pg_stat_user_tables', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(Number(stats.hot)).toBe(Number(stats.upd));
  });

  it('moves the expiry when the final one is more than an hour later; purges expired rows', async () => {
    const accepted = new Date(Date.now() + 3 * 24 * 3600_000);
    const [moved, gone] = [randomUUID(), randomUUID()];
    await store.insertAccepted([
      { systemId: 'cust', customerMessageId: moved, messageId: moved, expiresAt: accepted },
      { systemId: 'cust', customerMessageId: gone, messageId: gone, expiresAt: new Date(Date.now() - 1000) },
    ]);
    const much = new Date(accepted.getTime() + (EXPIRY_SLACK_SECONDS + 60) * 1000);
    await store.upsertStates([final(moved, much)]);
    expect((await rowsOf([moved]))[0]?.expires_at.getTime()).toBe(much.getTime());

    await store.expire();
    expect((await rowsOf([moved, gone])).map((r) => r.id)).toEqual([moved]);
  });

  it('accepted rows and final states written at once over the same messages, in opposite orders, never deadlock', async () => {
    // Two connections (the pool's max): the accepted batch in one order, the states of the same messages
    // in the other, together. Each statement takes its rows in one agreed order, so one waits for the
    // other; before, each locked the rows the other wanted next and PostgreSQL cancelled one of them
    // ("deadlock detected") after its deadlock_timeout.
    const expiresAt = new Date(Date.now() + 3 * 24 * 3600_000);
    for (let round = 0; round < 3; round++) {
      const ids = Array.from({ length: 3000 }, () => randomUUID()).sort();
      const outcomes = await Promise.allSettled([
        store.insertAccepted(
          ids.map((id) => ({ systemId: 'cust', customerMessageId: id, messageId: id, expiresAt })),
        ),
        store.storeBatch(
          [...ids].reverse().map((id) => final(id, expiresAt)),
          [],
        ),
      ]);
      expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual(['ok', 'ok']);
      // Every message ends DELIVERED, whichever statement came first (revision 2 overwrites 0, 0 never 2).
      const rows = await rowsOf(ids);
      expect(rows.filter((r) => r.message_state === MessageState.DELIVERED)).toHaveLength(ids.length);
    }
  });
  it('deletes an acknowledged receipt and keeps its redelivery out by the state; an MO stays, marked sent', async () => {
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + 24 * 3600_000);
    const row = (esmClass: number, revision?: number): PendingReceipt => ({
      messageId: id,
      status: esmClass === 4 ? 2 : 0,
      systemId: 'cust',
      customerMessageId: id,
      sourceTon: 1,
      sourceNpi: 1,
      source: '447700900123',
      destTon: 5,
      destNpi: 0,
      dest: 'ACME',
      dataCoding: 0,
      shortMessage: Buffer.from('id:1 stat:DELIVRD'),
      messageState: 2,
      networkErrorCode: undefined,
      expiresAt,
      esmClass,
      revision,
    });
    const claim = { replica: 'r1', leaseMs: 30_000, mine: [true, true] };
    const first = await store.storeBatch([final(id, expiresAt)], [row(4, 2), row(0)], claim);
    expect(first.inserted).toBe(2);
    await store.deliveredMany(
      [
        { messageId: id, status: 2 },
        { messageId: id, status: 0, inbound: true },
      ],
      'r1',
    );
    const left = async () =>
      (
        await pool.query<{ status: number; sent: boolean }>(
          'SELECT status, sent_at IS NOT NULL AS sent FROM ingress_pending_receipts WHERE message_id = $1',
          [id],
        )
      ).rows;
    expect(await left()).toEqual([{ status: 0, sent: true }]);
    // The same event again: neither row comes back (the state holds revision 2; the MO's row is there).
    const again = await store.storeBatch([final(id, expiresAt)], [row(4, 2), row(0)], claim);
    expect(again.inserted).toBe(0);
    expect(await left()).toEqual([{ status: 0, sent: true }]);
    // A newer revision (a corrected outcome) is a receipt again.
    const corrected = await store.storeBatch([], [row(4, 3)], { ...claim, mine: [false] });
    expect(corrected.inserted).toBe(1);

    // INGRESS_RECEIPT_ACK=mark (a rolling upgrade from, or a rollback to, a version that relies on the mark):
    // an acknowledged receipt is kept, marked sent, like the MO.
    const marking = new ReceiptStore(pool, 'mark');
    const other = randomUUID();
    const kept = { ...row(4, 2), messageId: other, customerMessageId: other };
    expect(
      (await marking.storeBatch([final(other, expiresAt)], [kept], { ...claim, mine: [true] })).inserted,
    ).toBe(1);
    await marking.deliveredMany([{ messageId: other, status: 2 }], 'r1');
    const marked = await pool.query<{ sent: boolean }>(
      'SELECT sent_at IS NOT NULL AS sent FROM ingress_pending_receipts WHERE message_id = $1',
      [other],
    );
    expect(marked.rows).toEqual([{ sent: true }]);
  });
});
