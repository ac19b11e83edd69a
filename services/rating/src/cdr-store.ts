// CDRs and balance debits in Postgres, one statement per consumed batch (or group of batches).
//
// INSERT ... ON CONFLICT (hub_message_id) DO NOTHING RETURNING tells which records are new: only those
// debit the balance (in the same statement) and are published. For the others the stored CDR is read
// back: if it was never published (the process died between commit and Kafka's ack), its stored bytes
// are published again, so a message's record on the topic is always the same bytes. A CDR is unpublished
// while its id is in rating_cdrs_unpublished (inserted with the CDR, deleted once Kafka acknowledged it).

import type { Pool } from 'pg';
import { arrayLiteral, arrayLiteralOf, packBytes, withTransaction } from '@smshub/db';
import { store } from './pg-errors.js';

export interface CdrRow {
  hubMessageId: string;
  accountId: string;
  connectorId: string;
  supplierId: string;
  country: string;
  mccMnc: string;
  segments: number;
  outcome: string;
  status: string;
  billedOn: 'submit' | 'final';
  sellMinor: bigint;
  sellCurrency: string;
  sellCharged: boolean;
  sellRateId: string;
  buyMinor: bigint;
  buyCurrency: string;
  buyCharged: boolean;
  buyRateId: string;
  marginMinor: bigint | null;
  submittedAt: Date;
  ratedAt: Date;
  /** Encoded BillingRated. */
  record: Buffer;
  /** Amount to take from the account's balance (0 = none), in the account currency. */
  debitMinor: bigint;
}

export interface ExistingCdr {
  hubMessageId: string;
  record: Buffer;
  published: boolean;
  /** The connector the CDR names ('' for none). */
  connectorId: string;
  sellMinor: bigint;
  sellCurrency: string;
  buyMinor: bigint;
  buyCurrency: string;
}

export interface WriteResult {
  inserted: Set<string>;
  existing: ExistingCdr[];
  /** Accounts whose balance changed. */
  debitedAccounts: string[];
}

// Whether CDR `c` is published: a (hashed) subplan, not a join. rating_cdrs_unpublished churns (a row per CDR,
// inserted and deleted within a second), and statistics taken while it was nearly empty (reltuples = 0) made
// the former LEFT JOIN a nested loop comparing every CDR read back with every live row of the table
// (~72,000 comparisons and ~10 ms for 240 CDRs against 300 rows; R4, session 14).
const PUBLISHED = `NOT EXISTS (SELECT FROM rating_cdrs_unpublished u WHERE u.hub_message_id = c.hub_message_id)`;

// One statement per write, committed on its own: the new CDRs with their ids in rating_cdrs_unpublished (a
// CDR is published exactly when it has no row there: publishUnpublished deletes it), the new CDRs' debits
// in the ledger (unique per hub message id) and the balances, and the batch's CDRs that already existed,
// read back. Data-modifying CTEs run in one snapshot: `existing` sees the CDRs committed before the
// statement, not the ones `inserted` writes, so it lists exactly the conflicting ones (a CDR another
// transaction commits while this statement waits on its key is in neither list: writeCdrs reads those
// back apart). Balances are locked in account order (ORDER BY), so concurrent writes cannot deadlock; a
// debit in a currency other than the balance's sets NULL into the NOT NULL balance_minor, which fails the
// whole statement (BalanceCurrencyError), as the transaction of several statements did before.
const WRITE_CDRS = `
WITH inserted AS (
  INSERT INTO rating_cdrs (hub_message_id, account_id, connector_id, supplier_id, country, mcc_mnc, segments,
    outcome, status, billed_on, sell_minor, sell_currency, sell_charged, sell_rate_id, buy_minor, buy_currency,
    buy_charged, buy_rate_id, margin_minor, submitted_at, rated_at, record)
  SELECT u.c1, u.c2, u.c3, u.c4, u.c5, u.c6, u.c7, u.c8, u.c9, u.c10, u.c11, u.c12, u.c13, u.c14, u.c15, u.c16,
    u.c17, u.c18, u.c19, 'epoch'::timestamptz + u.c20 * interval '1 millisecond', u.c21,
    substring($22::bytea FROM u.s FOR u.l)
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
    $8::text[], $9::text[], $10::text[], $11::bigint[], $12::char(3)[], $13::bool[], $14::text[], $15::bigint[],
    $16::char(3)[], $17::bool[], $18::text[], $19::bigint[], $20::bigint[], $21::timestamptz[], $23::int[],
    $24::int[]) AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20,
    c21, s, l)
  ON CONFLICT (hub_message_id) DO NOTHING
  RETURNING hub_message_id, rated_at
), unpublished AS (
  INSERT INTO rating_cdrs_unpublished (hub_message_id, rated_at) SELECT hub_message_id, rated_at FROM inserted
), ledger AS (
  INSERT INTO rating_balance_ledger (account_id, hub_message_id, amount_minor, currency)
  SELECT d.a, d.id, d.m, d.c
    FROM unnest($25::text[], $26::uuid[], $27::bigint[], $28::char(3)[]) AS d(a, id, m, c)
    JOIN inserted i ON i.hub_message_id = d.id
  ON CONFLICT (hub_message_id) DO NOTHING
  RETURNING account_id, amount_minor, currency
), balances AS (
  INSERT INTO rating_balances AS b (account_id, currency, balance_minor, revision)
  SELECT account_id, min(currency), sum(amount_minor), 1 FROM ledger GROUP BY account_id ORDER BY account_id
  ON CONFLICT (account_id) DO UPDATE
    SET balance_minor = CASE WHEN b.currency = EXCLUDED.currency THEN b.balance_minor + EXCLUDED.balance_minor END,
        revision = b.revision + 1, updated_at = now()
  RETURNING account_id
)
SELECT 'i' AS kind, hub_message_id::text AS id, NULL::bytea AS record, NULL::bool AS published,
       NULL::text AS connector_id, NULL::text AS sell_minor, NULL::text AS sell_currency, NULL::text AS buy_minor,
       NULL::text AS buy_currency
  FROM inserted
UNION ALL
SELECT 'b', account_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM balances
UNION ALL
SELECT 'e', c.hub_message_id::text, c.record, ${PUBLISHED}, c.connector_id, c.sell_minor::text,
       c.sell_currency, c.buy_minor::text, c.buy_currency
  FROM rating_cdrs c
 WHERE c.hub_message_id = ANY($1::uuid[])`;

export const SELECT_EXISTING = `
SELECT 'e' AS kind, c.hub_message_id::text AS id, c.record, ${PUBLISHED} AS published, c.connector_id,
       c.sell_minor::text AS sell_minor, c.sell_currency, c.buy_minor::text AS buy_minor, c.buy_currency
  FROM rating_cdrs c
 WHERE c.hub_message_id = ANY($1::uuid[])`;

/** Balances whose currency differs from these debits' (the account's currency was changed). */
const MISMATCHED_BALANCES = `
SELECT DISTINCT b.account_id FROM rating_balances b
  JOIN unnest($1::text[], $2::char(3)[]) AS d(a, c) ON d.a = b.account_id AND d.c <> b.currency
 ORDER BY 1`;

interface WriteRow {
  kind: 'i' | 'b' | 'e';
  id: string;
  record: Buffer | null;
  published: boolean | null;
  connector_id: string | null;
  sell_minor: string | null;
  sell_currency: string | null;
  buy_minor: string | null;
  buy_currency: string | null;
}

/** A debit in a currency other than the balance's (the account's currency was changed). */
export class BalanceCurrencyError extends Error {
  readonly retriable = false;
  constructor(accounts: string[]) {
    super(`balance currency differs from the account currency for ${accounts.join(', ')}`);
    this.name = 'BalanceCurrencyError';
  }
}

function toExisting(r: WriteRow): ExistingCdr {
  return {
    hubMessageId: r.id,
    record: r.record!,
    published: r.published === true,
    connectorId: r.connector_id ?? '',
    sellMinor: BigInt(r.sell_minor!),
    sellCurrency: r.sell_currency!,
    buyMinor: BigInt(r.buy_minor!),
    buyCurrency: r.buy_currency!,
  };
}

/** Whether `err` is the NOT NULL violation WRITE_CDRS raises for a debit in another currency. */
function isCurrencyMismatch(err: unknown): boolean {
  const e = err as { code?: unknown; table?: unknown; column?: unknown } | null;
  return e?.code === '23502' && e.table === 'rating_balances' && e.column === 'balance_minor';
}

/**
 * `get(row)` as an ISO string, formatted once for a run of rows sharing one Date (a batch's rated_at).
 */
function isoOnce(get: (row: CdrRow) => Date): (row: CdrRow) => string {
  let last: Date | undefined;
  let text = '';
  return (row) => {
    const d = get(row);
    if (d !== last) {
      last = d;
      text = d.toISOString();
    }
    return text;
  };
}

/**
 * Inserts the CDRs of one batch (new ones debit balances) in one statement, its own transaction; reads
 * back the ones that already existed.
 */
export function writeCdrs(pool: Pool, rows: CdrRow[]): Promise<WriteResult> {
  return store('writing CDRs', async () => {
    // the records as one binary parameter, not a bytea[] pg would write and PostgreSQL parse as hex
    const records = packBytes(rows.map((r) => r.record));
    const debits = rows.filter((r) => r.debitMinor !== 0n);
    let res: WriteRow[];
    try {
      // Every other column as an array literal built in one pass (libs/db arrayLiteral), not a JavaScript
      // array pg would turn into the same text element by element.
      ({ rows: res } = await pool.query<WriteRow>(WRITE_CDRS, [
        arrayLiteral(rows, (r) => r.hubMessageId),
        arrayLiteral(rows, (r) => r.accountId),
        arrayLiteral(rows, (r) => r.connectorId),
        arrayLiteral(rows, (r) => r.supplierId),
        arrayLiteral(rows, (r) => r.country),
        arrayLiteral(rows, (r) => r.mccMnc),
        arrayLiteral(rows, (r) => r.segments),
        arrayLiteral(rows, (r) => r.outcome),
        arrayLiteral(rows, (r) => r.status),
        arrayLiteral(rows, (r) => r.billedOn),
        arrayLiteral(rows, (r) => r.sellMinor),
        arrayLiteral(rows, (r) => r.sellCurrency),
        arrayLiteral(rows, (r) => r.sellCharged),
        arrayLiteral(rows, (r) => r.sellRateId),
        arrayLiteral(rows, (r) => r.buyMinor),
        arrayLiteral(rows, (r) => r.buyCurrency),
        arrayLiteral(rows, (r) => r.buyCharged),
        arrayLiteral(rows, (r) => r.buyRateId),
        arrayLiteral(rows, (r) => r.marginMinor),
        // Submit times as epoch milliseconds (exact: a Date holds whole milliseconds), made timestamptz by the
        // statement: Date.toISOString per row was ~3 % of rating's CPU in the hub's shape, and PostgreSQL
        // parses a bigint for less than a timestamp's text. rated_at is one value per batch, formatted once.
        arrayLiteral(rows, (r) => r.submittedAt.getTime()),
        arrayLiteral(
          rows,
          isoOnce((r) => r.ratedAt),
        ),
        records.bytes,
        arrayLiteralOf(records.starts),
        arrayLiteralOf(records.lengths),
        arrayLiteral(debits, (r) => r.accountId),
        arrayLiteral(debits, (r) => r.hubMessageId),
        arrayLiteral(debits, (r) => -r.debitMinor),
        arrayLiteral(debits, (r) => r.sellCurrency),
      ]));
    } catch (err) {
      if (!isCurrencyMismatch(err)) throw err;
      const { rows: bad } = await pool.query<{ account_id: string }>(MISMATCHED_BALANCES, [
        arrayLiteral(debits, (r) => r.accountId),
        arrayLiteral(debits, (r) => r.sellCurrency),
      ]);
      throw new BalanceCurrencyError(bad.map((r) => r.account_id));
    }
    const inserted = new Set<string>();
    const debitedAccounts: string[] = [];
    const existing: ExistingCdr[] = [];
    for (const r of res) {
      if (r.kind === 'i') inserted.add(r.id);
      else if (r.kind === 'b') debitedAccounts.push(r.id);
      else existing.push(toExisting(r));
    }
    if (inserted.size + existing.length < rows.length) {
      // Committed by another transaction while this statement waited on their keys (see WRITE_CDRS).
      const seen = new Set(existing.map((e) => e.hubMessageId));
      const others = rows.map((r) => r.hubMessageId).filter((id) => !inserted.has(id) && !seen.has(id));
      if (others.length > 0) {
        const ex = await pool.query<WriteRow>(SELECT_EXISTING, [arrayLiteralOf(others)]);
        for (const r of ex.rows) existing.push(toExisting(r));
      }
    }
    return { inserted, existing, debitedAccounts };
  });
}

/** When the oldest CDR not yet marked published was rated (null when every CDR is marked). */
export async function oldestUnpublished(pool: Pool): Promise<Date | null> {
  const { rows } = await store('reading unpublished CDRs', () =>
    pool.query<{ since: Date | null }>('SELECT min(rated_at) AS since FROM rating_cdrs_unpublished'),
  );
  return rows[0]?.since ?? null;
}

/**
 * Up to `limit` CDRs still unpublished with their stored records, in id order after `afterId` (a cursor:
 * rows another replica holds stay listed, and the caller moves past them).
 */
export async function listUnpublished(
  pool: Pool,
  afterId: string,
  limit: number,
): Promise<Array<{ id: string; record: Buffer }>> {
  const { rows } = await store('reading unpublished CDRs', () =>
    pool.query<{ id: string; record: Buffer }>(
      `SELECT u.hub_message_id::text AS id, c.record
         FROM rating_cdrs_unpublished u JOIN rating_cdrs c ON c.hub_message_id = u.hub_message_id
        WHERE u.hub_message_id > $1::uuid
        ORDER BY u.hub_message_id
        LIMIT $2`,
      [afterId, limit],
    ),
  );
  return rows;
}

/** Records that Kafka acknowledged these CDRs' records. */
export async function markPublished(pool: Pool, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await store('marking CDRs published', () =>
    pool.query('DELETE FROM rating_cdrs_unpublished WHERE hub_message_id = ANY($1::uuid[])', [
      arrayLiteralOf(ids),
    ]),
  );
}

// The rows are locked once (an InitPlan: ARRAY(...) runs before the scan) and deleted by their tuple ids (a
// TID scan), whatever PostgreSQL's statistics say about the table. The earlier form, `hub_message_id IN
// (SELECT ... FOR UPDATE SKIP LOCKED)`, was planned from them: once autoanalyze had seen the churning table
// (a row per CDR, inserted and deleted within a second) nearly empty, reltuples = 0 made it a nested-loop semi
// join that ran the locking subquery again for every live row of the table: up to 36,000 buffer hits per
// claim instead of ~730, for a minute or so until the next autoanalyze (R4, session 14; README "Session 14").
// A row is never updated, only inserted and deleted, and the rows locked here cannot move before the delete,
// so their tuple ids are those the delete finds.
export const CLAIM_UNPUBLISHED = `
DELETE FROM rating_cdrs_unpublished
 WHERE ctid = ANY (ARRAY(SELECT ctid FROM rating_cdrs_unpublished
                          WHERE hub_message_id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED))
RETURNING hub_message_id::text AS id`;

/**
 * Publishes the records of CDRs that are still unpublished, each at most once across every batch and
 * replica: the CDRs' rows in rating_cdrs_unpublished are locked (SKIP LOCKED: a row another batch holds is
 * that batch's to publish) for the time of `publish`, and deleted with the lock once it resolved. A row
 * already gone was published by someone else. If `publish` throws, nothing is marked and the locks go.
 * Resolves with the ids this call published.
 */
export async function publishUnpublished(
  pool: Pool,
  ids: string[],
  publish: (claimed: Set<string>) => Promise<void>,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  // A failure of `publish` (Kafka's) goes to the caller as it is, not as a StoreError: whether retrying
  // can help is the Kafka client's to say.
  let publishFailure: { err: unknown } | undefined;
  try {
    return await store('publishing CDRs', () =>
      withTransaction(pool, async (client) => {
        // The claim is the delete itself: the deleted rows stay locked until the commit after `publish`
        // (a rollback, if it fails, brings them back), so one statement both claims and marks.
        const { rows } = await client.query<{ id: string }>(CLAIM_UNPUBLISHED, [arrayLiteralOf(ids)]);
        const claimed = new Set(rows.map((r) => r.id));
        if (claimed.size === 0) return claimed;
        try {
          await publish(claimed);
        } catch (err) {
          publishFailure = { err };
          throw err;
        }
        return claimed;
      }),
    );
  } catch (err) {
    if (publishFailure) throw publishFailure.err;
    throw err;
  }
}
