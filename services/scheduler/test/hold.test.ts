// Issue 19 part 3 over real Kafka and PostgreSQL: held messages are released at their time, once, whatever
// the number of scheduler replicas, and a replica that dies in the middle of a release loses none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool as PgPool } from 'pg';
import type { TypedProducer } from '@smshub/kafka';
import { waitFor } from '@smshub/testing';
import { Harness } from './harness.js';

const h = new Harness();
beforeAll(() => h.setup(), 120_000);
afterAll(() => h.teardown(), 60_000);

describe('scheduler', () => {
  it('an idle replica (nothing held) looks at the next due time once per idle poll, without a release transaction each time', async () => {
    // A database of its own: nothing held. Used to run a release transaction every millisecond (the
    // next-due query answered "due now" for an empty table), about 400 statements a second.
    const idle = new Harness();
    await idle.setup();
    try {
      const pool = idle.newPool(2);
      let looks = 0;
      let transactions = 0;
      const counted = new Proxy(pool, {
        get(target, prop, receiver) {
          if (prop === 'query')
            return (...args: unknown[]) => (looks++, (target.query as (...a: unknown[]) => unknown)(...args));
          if (prop === 'connect') return () => (transactions++, target.connect());
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
      await idle.startScheduler({ pollMs: 100, idlePollMs: 100 }, { pool: counted });
      await waitFor(() => looks >= 5 || undefined, {
        what: 'five looks at the next due time',
        timeoutMs: 10_000,
      });
      // the one release transaction at start; none for the looks that found nothing held
      expect(transactions).toBeLessThanOrEqual(1);
    } finally {
      await idle.teardown();
    }
  }, 60_000);

  it('releases held messages at their time onto sms.submitted.v1, without the raw schedule', async () => {
    await h.startScheduler();
    const now = Date.now();
    const a = await h.hold(new Date(now + 2_000));
    const b = await h.hold(new Date(now + 3_500));
    const ra = await h.waitReleased(a.messageId);
    const rb = await h.waitReleased(b.messageId);
    // Not before its time, and within a second of it.
    expect(ra.seenAt).toBeGreaterThanOrEqual(a.holdUntil!.getTime());
    expect(ra.seenAt - a.holdUntil!.getTime()).toBeLessThan(1_000);
    expect(rb.seenAt).toBeGreaterThanOrEqual(b.holdUntil!.getTime());
    expect(rb.seenAt - b.holdUntil!.getTime()).toBeLessThan(1_000);
    expect(ra.seenAt).toBeLessThan(rb.seenAt);
    // What egress needs: no schedule to forward; what routing needs: released_at (never held again).
    expect(ra.value.scheduleDeliveryTimeRaw).toBe('');
    expect(ra.value.releasedAt).toBeInstanceOf(Date);
    expect(Buffer.from(ra.value.shortMessage).toString()).toBe('held');
    await waitFor(async () => (await h.stateOf(a.messageId))?.state === 'released', { what: 'released row' });
  }, 60_000);

  it('a message whose validity ends before its time is not released: EXPIRED on sms.rejected.v1', async () => {
    const now = Date.now();
    const m = await h.hold(new Date(now + 1_500), { validityUntil: new Date(now + 500) });
    const r = await waitFor(() => h.rejected.find((x) => x.message?.messageId === m.messageId), {
      what: 'EXPIRED rejection',
      timeoutMs: 20_000,
    });
    expect(r.error?.code).toBe('EXPIRED');
    // The row is marked in the transaction that published the rejection (its commit follows the ack).
    await waitFor(async () => (await h.stateOf(m.messageId))?.state === 'expired', { what: 'expired row' });
    expect(h.releasesOf(m.messageId)).toHaveLength(0);
  }, 60_000);

  it('two replicas never release one message twice (300 due in the same second)', async () => {
    await h.stopAll();
    await h.startScheduler({ batch: 25 });
    await h.startScheduler({ batch: 25 });
    const due = new Date(Date.now() + 3_000);
    const held = [];
    for (let i = 0; i < 300; i++) held.push(h.hold(due));
    const ids = (await Promise.all(held)).map((m) => m.messageId);
    await waitFor(() => ids.every((id) => h.releasesOf(id).length > 0) || undefined, {
      what: '300 releases',
      timeoutMs: 30_000,
    });
    // A later message released after them: everything due before it has been released by then.
    const marker = await h.hold(new Date(Date.now() + 500));
    await h.waitReleased(marker.messageId);
    for (const id of ids) expect(h.releasesOf(id)).toHaveLength(1);
    const by = await h.pool.query<{ done_by: string; n: string }>(
      `SELECT done_by, count(*) AS n FROM scheduler_held WHERE message_id = ANY($1) GROUP BY done_by`,
      [ids],
    );
    expect(by.rows.reduce((s, r) => s + Number(r.n), 0)).toBe(300);
  }, 90_000);

  it('a replica that dies holding due messages (before its commit) loses none; another releases each once', async () => {
    // Replica A: its publications never come back (a hung broker), its connection is then killed (a crash).
    const stuck: TypedProducer = {
      produce: () => new Promise<void>(() => undefined),
      produceRaw: () => new Promise<void>(() => undefined),
    } as unknown as TypedProducer;
    const appName = `scheduler-a-${Date.now()}`;
    const poolA = new PgPool({ connectionString: h.db.url, max: 2, application_name: appName });
    // Its connections are killed below: that is the crash, not a test error.
    poolA.on('error', () => undefined);
    // Stop the replicas of the earlier tests first: only A may take these (stopped after the holds, they
    // could release them themselves while stopping: a stop waits for the consumer's fetch in flight).
    await h.stopAll();
    const dueAt = new Date(Date.now() + 1_000);
    const msgs = await Promise.all(Array.from({ length: 20 }, () => h.hold(dueAt)));
    const ids = msgs.map((m) => m.messageId);
    const a = await h.startScheduler({}, { producer: stuck, pool: poolA });
    // A has taken them (locked, publication pending): they are still 'held' and nobody else can take them.
    const locked = new PgPool({ connectionString: h.db.url, max: 1 });
    try {
      await waitFor(
        async () => {
          const r = await locked.query(
            `SELECT count(*)::int AS n FROM scheduler_held WHERE message_id = ANY($1) AND state = 'held'
               AND message_id NOT IN (SELECT message_id FROM scheduler_held WHERE message_id = ANY($1)
                                        FOR UPDATE SKIP LOCKED)`,
            [ids],
          );
          return r.rows[0].n === ids.length || undefined;
        },
        { what: 'replica A holding the due rows', timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      await locked.end();
    }
    // A dies: its database sessions end (its open transaction rolls back).
    const killed = await h.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
      [appName],
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    // Its consumer leaves the group; its release loop stays stuck on the publication that never returns.
    h.abandon(a);
    void a.stop();
    await h.startScheduler();
    for (const id of ids) await h.waitReleased(id);
    const marker = await h.hold(new Date(Date.now() + 300));
    await h.waitReleased(marker.messageId);
    for (const id of ids) expect(h.releasesOf(id)).toHaveLength(1);
    // A's stuck release still has its (dead) connection checked out: end() would wait for it forever.
    void poolA.end().catch(() => undefined);
  }, 90_000);
});
