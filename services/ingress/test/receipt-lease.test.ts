// A receipt the customer acknowledged, whose "sent" mark PostgreSQL refuses for longer than the claim lease,
// is sent once: neither the replica that sent it (claiming it again after the lease) nor another replica
// with a receiver of the same system_id sends it a second time. The refusal is a pool wrapper that fails the
// mark statement for a while; the lease is 1 s instead of 60 s.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus } from '@smshub/contracts';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createLogger } from '@smshub/logging';
import type { SmppSession } from '@smshub/smpp';
import { createTestDatabase, waitFor, type TestDatabase } from '@smshub/testing';
import { ReceiptDispatcher, type DispatcherOptions } from '../src/dispatcher.js';
import { ReceiptStore } from '../src/receipt-store.js';

const LEASE_MS = 1000;
const REFUSAL_MS = 4500;

/** A bound receiver session that acknowledges every deliver_sm and counts them. */
function fakeReceiver(): { session: SmppSession; delivered: () => number } {
  let n = 0;
  const session = {
    state: 'BOUND_TRX',
    deliver: () => {
      n++;
      return Promise.resolve({});
    },
    once: () => session,
  };
  return { session: session as unknown as SmppSession, delivered: () => n };
}

describe('receipt dispatcher: a refused "sent" mark', () => {
  let db: TestDatabase;
  let pool: Pool;
  let migrations: string;
  const dispatchers: ReceiptDispatcher[] = [];
  const log = createLogger({ service: 'ingress-test', level: 'silent' as 'info' });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool({ connectionString: db.url, max: 10 });
    migrations = await mkdtemp(path.join(tmpdir(), 'ingress-migrations-'));
    for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
      if (/^\d{4}_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(migrations, f));
    await migrate(pool, { dir: migrations });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(dispatchers.map((d) => d.stop()));
    await pool?.end();
    await db?.drop();
    if (migrations) await rm(migrations, { recursive: true, force: true });
  });

  it('is not resent after the lease, by the same replica or another one, and is marked once PostgreSQL takes it', async () => {
    const store = new ReceiptStore(pool);
    const messageId = '0190f1e2-0000-7000-8000-00000000c0de';
    await store.insertMany([
      {
        messageId,
        status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
        systemId: 'acme',
        customerMessageId: 'c-1',
        sourceTon: 1,
        sourceNpi: 1,
        source: '447700900001',
        destTon: 1,
        destNpi: 1,
        dest: '447700900002',
        dataCoding: 0,
        shortMessage: Buffer.from('id:c-1 sub:001 dlvrd:001 stat:DELIVRD err:000 text:'),
        messageState: 2,
        networkErrorCode: undefined,
        expiresAt: new Date(Date.now() + 3_600_000),
      },
    ]);

    // Replica A: its "sent" mark is refused for REFUSAL_MS (every other statement goes through).
    let refuseUntil = Number.POSITIVE_INFINITY;
    let refusedMarks = 0;
    const poolA = {
      query: (text: string, params?: unknown[]) => {
        if (text.startsWith('DELETE FROM ingress_pending_receipts') && Date.now() < refuseUntil) {
          refusedMarks++;
          return Promise.reject(
            Object.assign(new Error('simulated: the mark statement is refused'), { code: '57P01' }),
          );
        }
        return pool.query(text, params);
      },
      connect: () => pool.connect(),
    } as unknown as Pool;
    // Replica B: counts its claim statements (it must keep trying to take the row, and never get it).
    const claimsB: number[] = [];
    const poolB = {
      query: (text: string, params?: unknown[]) => {
        if (text.includes('SET claimed_by = $2')) claimsB.push(Date.now());
        return pool.query(text, params);
      },
      connect: () => pool.connect(),
    } as unknown as Pool;
    const opts = (replicaId: string): DispatcherOptions => ({
      replicaId,
      leaseMs: LEASE_MS,
      pollMs: 100,
      retryBaseMs: 300,
      maxRetryMs: 1000,
      responseTimeoutMs: 2000,
      batch: 10,
      markDelayMs: 20,
      housekeepingMs: 60_000,
    });
    const a = new ReceiptDispatcher(poolA, new ReceiptStore(poolA), opts('replica-a'), log);
    const b = new ReceiptDispatcher(poolB, new ReceiptStore(poolB), opts('replica-b'), log);
    dispatchers.push(a, b);

    const ra = fakeReceiver();
    const rb = fakeReceiver();
    await a.start();
    a.addReceiver('acme', ra.session);
    await waitFor(() => ra.delivered() === 1, { timeoutMs: 30_000 });
    const deliveredAt = Date.now();
    refuseUntil = deliveredAt + REFUSAL_MS;
    await b.start();
    b.addReceiver('acme', rb.session);

    // Positive signals: the mark was refused for several leases, B tried to claim after A's first lease
    // would have ended, and in the end A's mark was written (an acknowledged receipt's row is deleted).
    await waitFor(
      async () =>
        (await pool.query('SELECT 1 FROM ingress_pending_receipts WHERE message_id = $1', [messageId]))
          .rowCount === 0,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect({ byA: ra.delivered(), byB: rb.delivered() }).toEqual({ byA: 1, byB: 0 });
    expect(refusedMarks).toBeGreaterThanOrEqual(3);
    expect(claimsB.some((t) => t > deliveredAt + 2 * LEASE_MS)).toBe(true);
  }, 120_000);
});
