// CDRs and balance debits in Postgres, one transaction per consumed batch.
//
// INSERT ... ON CONFLICT (hub_message_id) DO NOTHING RETURNING tells which records are new: only those
// debit the balance (in the same transaction) and are published. For the others the stored CDR is read
// back: if it was never published (the process died between commit and Kafka's ack), its stored bytes
// are published again, so a message's record on the topic is always the same bytes. A CDR is unpublished
// while its id is in rating_cdrs_unpublished (inserted with the CDR, deleted once Kafka acknowledged it).

import type { Pool, PoolClient } from 'pg';
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

// The new CDRs are inserted with their ids in rating_cdrs_unpublished, in one statement: a CDR is published
// exactly when it has no row there (markPublished deletes it). Keeping that mark out of rating_cdrs means a
// CDR is one row version, written once, with one entry per index.
const INSERT_CDRS = `
WITH inserted AS (
  INSERT INTO rating_cdrs (hub_message_id, account_id, connector_id, supplier_id, country, mcc_mnc, segments,
    outcome, status, billed_on, sell_minor, sell_currency, sell_charged, sell_rate_id, buy_minor, buy_currency,
    buy_charged, buy_rate_id, margin_minor, submitted_at, rated_at, record)
  SELECT u.c1, u.c2, u.c3, u.c4, u.c5, u.c6, u.c7, u.c8, u.c9, u.c10, u.c11, u.c12, u.c13, u.c14, u.c15, u.c16,
    u.c17, u.c18, u.c19, u.c20, u.c21, substring($22::bytea FROM u.s FOR u.l)
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
    $8::text[], $9::text[], $10::text[], $11::bigint[], $12::char(3)[], $13::bool[], $14::text[], $15::bigint[],
    $16::char(3)[], $17::bool[], $18::text[], $19::bigint[], $20::timestamptz[], $21::timestamptz[], $23::int[],
    $24::int[]) AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20,
    c21, s, l)
  ON CONFLICT (hub_message_id) DO NOTHING
  RETURNING hub_message_id, rated_at
), unpublished AS (
  INSERT INTO rating_cdrs_unpublished (hub_message_id, rated_at) SELECT hub_message_id, rated_at FROM inserted
)
SELECT hub_message_id::text FROM inserted`;

const INSERT_LEDGER = `
INSERT INTO rating_balance_ledger (account_id, hub_message_id, amount_minor, currency)
SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::char(3)[])
ON CONFLICT (hub_message_id) DO NOTHING
RETURNING account_id, amount_minor::text, currency`;

const UPSERT_BALANCES = `
INSERT INTO rating_balances AS b (account_id, currency, balance_minor, revision)
SELECT a, c, m, 1 FROM unnest($1::text[], $2::char(3)[], $3::bigint[]) AS u(a, c, m)
ON CONFLICT (account_id) DO UPDATE
  SET balance_minor = b.balance_minor + EXCLUDED.balance_minor, revision = b.revision + 1, updated_at = now()
  WHERE b.currency = EXCLUDED.currency
RETURNING account_id`;

const SELECT_EXISTING = `
SELECT c.hub_message_id::text AS id, c.record, u.hub_message_id IS NULL AS published, c.connector_id,
       c.sell_minor::text AS sell_minor, c.sell_currency, c.buy_minor::text AS buy_minor, c.buy_currency
  FROM rating_cdrs c LEFT JOIN rating_cdrs_unpublished u ON u.hub_message_id = c.hub_message_id
 WHERE c.hub_message_id = ANY($1::uuid[])`;

/** A debit in a currency other than the balance's (the account's currency was changed). */
export class BalanceCurrencyError extends Error {
  readonly retriable = false;
  constructor(accounts: string[]) {
    super(`balance currency differs from the account currency for ${accounts.join(', ')}`);
    this.name = 'BalanceCurrencyError';
  }
}

async function debit(client: PoolClient, rows: CdrRow[], inserted: Set<string>): Promise<string[]> {
  const debits = rows.filter((r) => inserted.has(r.hubMessageId) && r.debitMinor !== 0n);
  if (debits.length === 0) return [];
  const ledger = await client.query<{ account_id: string; amount_minor: string; currency: string }>(
    INSERT_LEDGER,
    [
      arrayLiteral(debits, (r) => r.accountId),
      arrayLiteral(debits, (r) => r.hubMessageId),
      arrayLiteral(debits, (r) => -r.debitMinor),
      arrayLiteral(debits, (r) => r.sellCurrency),
    ],
  );
  const perAccount = new Map<string, { currency: string; amount: bigint }>();
  for (const l of ledger.rows) {
    const acc = perAccount.get(l.account_id) ?? { currency: l.currency, amount: 0n };
    acc.amount += BigInt(l.amount_minor);
    perAccount.set(l.account_id, acc);
  }
  // Same lock order in every transaction (sorted ids): concurrent batches cannot deadlock on balances.
  const ids = [...perAccount.keys()].sort();
  if (ids.length === 0) return [];
  const updated = await client.query<{ account_id: string }>(UPSERT_BALANCES, [
    arrayLiteralOf(ids),
    arrayLiteral(ids, (id) => perAccount.get(id)!.currency),
    arrayLiteral(ids, (id) => perAccount.get(id)!.amount),
  ]);
  if (updated.rows.length !== ids.length) {
    const ok = new Set(updated.rows.map((r) => r.account_id));
    throw new BalanceCurrencyError(ids.filter((id) => !ok.has(id)));
  }
  return ids;
}

/** Inserts the CDRs of one batch (new ones debit balances), in one transaction. */
export function writeCdrs(pool: Pool, rows: CdrRow[]): Promise<WriteResult> {
  return store('writing CDRs', () =>
    withTransaction(pool, async (client) => {
      // the records as one binary parameter, not a bytea[] pg would write and PostgreSQL parse as hex
      const records = packBytes(rows.map((r) => r.record));
      // Every other column as an array literal built in one pass (libs/db arrayLiteral), not a JavaScript
      // array pg would turn into the same text element by element.
      const res = await client.query<{ hub_message_id: string }>(INSERT_CDRS, [
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
        // ISO strings: exact timestamptz values, much cheaper for pg than formatting Dates in local time
        arrayLiteral(rows, (r) => r.submittedAt.toISOString()),
        arrayLiteral(rows, (r) => r.ratedAt.toISOString()),
        records.bytes,
        arrayLiteralOf(records.starts),
        arrayLiteralOf(records.lengths),
      ]);
      const inserted = new Set(res.rows.map((r) => r.hub_message_id));
      const debitedAccounts = await debit(client, rows, inserted);
      const others = rows.filter((r) => !inserted.has(r.hubMessageId)).map((r) => r.hubMessageId);
      let existing: ExistingCdr[] = [];
      if (others.length > 0) {
        const ex = await client.query<{
          id: string;
          record: Buffer;
          published: boolean;
          connector_id: string | null;
          sell_minor: string;
          sell_currency: string;
          buy_minor: string;
          buy_currency: string;
        }>(SELECT_EXISTING, [arrayLiteralOf(others)]);
        existing = ex.rows.map((r) => ({
          hubMessageId: r.id,
          record: r.record,
          published: r.published,
          connectorId: r.connector_id ?? '',
          sellMinor: BigInt(r.sell_minor),
          sellCurrency: r.sell_currency,
          buyMinor: BigInt(r.buy_minor),
          buyCurrency: r.buy_currency,
        }));
      }
      return { inserted, existing, debitedAccounts };
    }),
  );
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
        const { rows } = await client.query<{ id: string }>(
          `SELECT hub_message_id::text AS id FROM rating_cdrs_unpublished
            WHERE hub_message_id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED`,
          [arrayLiteralOf(ids)],
        );
        const claimed = new Set(rows.map((r) => r.id));
        if (claimed.size === 0) return claimed;
        try {
          await publish(claimed);
        } catch (err) {
          publishFailure = { err };
          throw err;
        }
        await client.query('DELETE FROM rating_cdrs_unpublished WHERE hub_message_id = ANY($1::uuid[])', [
          arrayLiteralOf([...claimed]),
        ]);
        return claimed;
      }),
    );
  } catch (err) {
    if (publishFailure) throw publishFailure.err;
    throw err;
  }
}
