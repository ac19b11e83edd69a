// The dedupe rows' statements over a real PostgreSQL (dispatch-store.ts): first claims as a plain insert and
// outcomes as an update, with their fallbacks when a row is (or is not) there, decide every part exactly as
// the conditional upserts do.
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createTestDatabase, type TestDatabase } from '@smshub/testing';
import { DispatchStore, type DispatchWriteShape } from '../src/dispatch-store.js';

let db: TestDatabase;
let pool: Pool;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 6 });
  dir = await mkdtemp(path.join(tmpdir(), 'egress-store-test-'));
  for (const f of await readdir(DEFAULT_MIGRATIONS_DIR))
    if (/^(0001|02\d\d)_.*\.sql$/.test(f)) await cp(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  await migrate(pool, { dir });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Claim = Parameters<DispatchStore['claimMany']>[0][number];
const claim = (messageId: string, attempt = 1): Claim => ({
  messageId,
  partNumber: 1,
  partTotal: 1,
  state: 'sending',
  attempt,
  connectorId: 'con_a',
});

async function row(messageId: string) {
  const { rows } = await pool.query(
    `SELECT state, attempt, replica, supplier_message_id, command_status, event
     FROM egress_part_dispatch WHERE message_id = $1 AND part_number = 1`,
    [messageId],
  );
  return rows[0] as
    | {
        state: string;
        attempt: number;
        replica: string;
        supplier_message_id: string | null;
        command_status: string | null;
        event: Buffer | null;
      }
    | undefined;
}

describe.each<DispatchWriteShape>(['plain', 'upsert'])('DispatchStore (%s writes)', (shape) => {
  const store = (replica: string) => new DispatchStore(pool, replica, { writeShape: shape });

  it('first claims are won and their outcomes recorded', async () => {
    const s = store('r1');
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const rows = ids.map((id) => claim(id));
    await s.claimMany(rows);
    expect(rows.map((r) => r.won)).toEqual([true, true, true]);
    await s.upsertMany(
      ids.map((id, i) => ({
        ...claim(id),
        state: 'sent' as const,
        supplierMessageId: `s${i}`,
        commandStatus: 0,
        event: Buffer.from([i, 1, 2]),
      })),
    );
    for (const [i, id] of ids.entries())
      expect(await row(id)).toEqual({
        state: 'sent',
        attempt: 1,
        replica: 'r1',
        supplier_message_id: `s${i}`,
        command_status: '0',
        event: Buffer.from([i, 1, 2]),
      });
  });

  it('a first claim meeting a row held or finished is lost, the fresh parts of its statement are won', async () => {
    const held = randomUUID();
    const finished = randomUUID();
    const pending = randomUUID();
    const other = store('r-other');
    await other.claimMany([claim(held), claim(finished), claim(pending)]);
    await other.upsertMany([
      {
        ...claim(finished),
        state: 'sent',
        supplierMessageId: 'x',
        commandStatus: 0,
        event: Buffer.from([9]),
      },
      { ...claim(pending), state: 'pending', commandStatus: 0x58 },
    ]);
    const fresh = randomUUID();
    const retry = randomUUID();
    const s = store('r1');
    await s.claimMany([claim(retry)]);
    await s.upsertMany([{ ...claim(retry), state: 'pending', commandStatus: 0x58 }]);
    // one statement: a fresh part, two parts another replica holds or finished (attempt 1: they meet its
    // rows), one pending at attempt 1 claimed again at attempt 1 (not after it: lost), and a retry (won)
    const rows = [claim(fresh), claim(held), claim(finished), claim(pending), claim(retry, 2)];
    await s.claimMany(rows);
    expect(rows.map((r) => r.won)).toEqual([true, false, false, false, true]);
    expect(await row(held)).toMatchObject({ state: 'sending', replica: 'r-other' });
    expect(await row(finished)).toMatchObject({
      state: 'sent',
      replica: 'r-other',
      supplier_message_id: 'x',
    });
    expect(await row(pending)).toMatchObject({ state: 'pending', attempt: 1, replica: 'r-other' });
    expect(await row(fresh)).toMatchObject({ state: 'sending', attempt: 1, replica: 'r1' });
    expect(await row(retry)).toMatchObject({ state: 'sending', attempt: 2, replica: 'r1' });
  });

  it('an outcome of a part that has no row (failed before any claim) is written with the others', async () => {
    const s = store('r1');
    const claimed = randomUUID();
    const never = randomUUID();
    await s.claimMany([claim(claimed)]);
    await s.upsertMany([
      { ...claim(claimed), state: 'sent', supplierMessageId: 'a', commandStatus: 0, event: Buffer.from([1]) },
      { ...claim(never), state: 'failed', commandStatus: 0, event: Buffer.from([2]) },
    ]);
    expect(await row(claimed)).toMatchObject({
      state: 'sent',
      supplier_message_id: 'a',
      event: Buffer.from([1]),
    });
    expect(await row(never)).toMatchObject({ state: 'failed', attempt: 1, event: Buffer.from([2]) });
  });

  it('a claim that fails leaves no row of its group committed, so the redelivered parts are sent', async () => {
    // Statement k of the claim fails (a dropped connection), for every k the claim makes: whenever the claim
    // rejects, none of its parts may be held, or their redelivery would be taken for a crash after the claim.
    for (let k = 0; k < 3; k++) {
      let calls = 0;
      const failing = {
        query: (sql: string, params: unknown[]) =>
          calls++ === k ? Promise.reject(new Error('connection terminated')) : pool.query(sql, params),
      } as unknown as Pool;
      const s = new DispatchStore(failing, 'r1', { writeShape: shape });
      const retried = randomUUID();
      await store('r1').claimMany([claim(retried)]);
      await store('r1').upsertMany([{ ...claim(retried), state: 'pending', commandStatus: 0x58 }]);
      const fresh = randomUUID();
      const outcome = await s.claimMany([claim(fresh), claim(retried, 2)]).then(
        () => 'claimed',
        () => 'failed',
      );
      if (outcome === 'failed') {
        expect(await row(fresh)).toBeUndefined();
        expect(await row(retried)).toMatchObject({ state: 'pending', attempt: 1 });
      }
    }
  });

  it('two replicas claiming the same fresh parts at once: each part is won by exactly one', async () => {
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const a = ids.map((id) => claim(id));
    const b = ids
      .slice()
      .reverse()
      .map((id) => claim(id));
    await Promise.all([store('ra').claimMany(a), store('rb').claimMany(b)]);
    const wonBy = new Map<string, number>();
    for (const r of [...a, ...b]) if (r.won) wonBy.set(r.messageId, (wonBy.get(r.messageId) ?? 0) + 1);
    expect(ids.filter((id) => wonBy.get(id) !== 1)).toEqual([]);
    for (const r of a) expect((await row(r.messageId))?.replica).toBe(r.won ? 'ra' : 'rb');
  });
});
