// Balances and top-ups over rating's tables (0500): GetBalance reads rating_balances, CreateTopUp calls
// rating_top_up() (ledger entry + balance change, once per idempotency key), SetCreditLimit writes
// accounts.credit_limit_minor. Ingress blocks accounts from the `blocked` flag of balances.v1, which rating
// publishes only for balances it changed itself, so admin publishes the account's new state on balances.v1
// after every top-up and credit limit change (same key, same revision as rating's records: the balance row's).
import { currencyMinorExponent } from '@smshub/contracts';
import { status } from '@grpc/grpc-js';
import {
  BillingMode,
  ChangeAction,
  ResourceKind,
  type AccountBalance,
  type CreateTopUpRequest,
  type GetBalanceRequest,
  type ListTopUpsRequest,
  type Money,
  type SetCreditLimitRequest,
  type TopUp,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { read, tx, type AdminContext } from '../context.js';
import { invalid, notFound, RpcError } from '../errors.js';
import { isUuid, pageSize, requireText, uuidv7 } from '../validate.js';
import { accountFromRow, loadAccount, type AccountRow } from './accounts.js';

export function minorExponent(currency: string): number {
  return currencyMinorExponent(currency);
}

/** Money in `currency` as minor units of that currency; refuses other currencies and lost precision. */
export function toMinor(field: string, m: Money | undefined, currency: string): bigint {
  if (!m) throw invalid(field, 'is required');
  if (m.currencyCode !== currency)
    throw invalid(
      `${field}.currency_code`,
      `must be the account currency ${currency}, not ${JSON.stringify(m.currencyCode)}`,
    );
  const exp = minorExponent(currency);
  if (m.scale > 18) throw invalid(`${field}.scale`, 'must be at most 18');
  if (m.scale <= exp) return m.minorUnits * 10n ** BigInt(exp - m.scale);
  const div = 10n ** BigInt(m.scale - exp);
  if (m.minorUnits % div !== 0n) throw invalid(field, `has more decimals than ${currency} allows (${exp})`);
  return m.minorUnits / div;
}

export function money(minor: bigint, currency: string): Money {
  return { currencyCode: currency, minorUnits: minor, scale: minorExponent(currency) };
}

/** The balances.v1 record of an account, computed the way rating does (spendable <= 0 = blocked). */
export function accountBalance(
  a: Pick<AccountRow, 'id' | 'billing_mode' | 'credit_limit_minor' | 'currency'>,
  b: { balance_minor: string; revision: string; updated_at: Date; currency: string } | undefined,
): AccountBalance {
  const postpaid = a.billing_mode === 'postpaid';
  const currency = b?.currency ?? a.currency;
  const balance = BigInt(b?.balance_minor ?? 0);
  const limit = postpaid ? BigInt(a.credit_limit_minor) : 0n;
  const available = balance + limit;
  return {
    accountId: a.id,
    billingMode: postpaid ? BillingMode.BILLING_MODE_POSTPAID : BillingMode.BILLING_MODE_PREPAID,
    balance: money(balance, currency),
    creditLimit: money(limit, currency),
    available: money(available, currency),
    blocked: available <= 0n,
    revision: BigInt(b?.revision ?? 0),
    updatedAt: b?.updated_at ?? new Date(),
  };
}

interface BalanceRow {
  balance_minor: string;
  revision: string;
  updated_at: Date;
  currency: string;
}

async function balanceRow(
  c: PoolClient | AdminContext['pool'],
  accountId: string,
): Promise<BalanceRow | undefined> {
  const { rows } = await c.query<BalanceRow>(
    `SELECT balance_minor::text AS balance_minor, revision::text AS revision, updated_at, currency
       FROM rating_balances WHERE account_id = $1`,
    [accountId],
  );
  return rows[0];
}

interface TopUpRow {
  id: string;
  account_id: string;
  amount_minor: string;
  currency: string;
  idempotency_key: string;
  reference: string;
  actor: string;
  created_at: Date;
}

function topUpFromRow(r: TopUpRow): TopUp {
  return {
    id: r.id,
    accountId: r.account_id,
    amount: money(BigInt(r.amount_minor), r.currency),
    idempotencyKey: r.idempotency_key,
    reference: r.reference,
    actor: r.actor,
    createdAt: r.created_at,
  };
}

const TOPUP_SELECT = `SELECT id::text AS id, account_id, amount_minor::text AS amount_minor, currency, idempotency_key,
  reference, actor, created_at FROM rating_topups`;

export function balanceHandlers(ctx: AdminContext) {
  const actor = ctx.actor;
  return {
    async getBalance(req: GetBalanceRequest) {
      const result = await read(ctx, 'balance', async (p) => {
        const client = await p.connect();
        try {
          const a = await loadAccount(client, req.accountId);
          if (!a) return undefined;
          return accountBalance(a, await balanceRow(client, req.accountId));
        } finally {
          client.release();
        }
      });
      if (!result) throw notFound('account', req.accountId);
      return { balance: result };
    },

    async createTopUp(req: CreateTopUpRequest) {
      if (!isUuid(req.accountId)) throw invalid('account_id', 'must be an account id (UUID)');
      if (req.idempotencyKey === '') throw invalid('idempotency_key', 'is required');
      requireText('idempotency_key', req.idempotencyKey, 200);
      requireText('reference', req.reference, 500);
      const out = await tx(ctx, 'top_up', async (c) => {
        const a = await loadAccount(c, req.accountId);
        if (!a) throw notFound('account', req.accountId);
        const amount = toMinor('amount', req.amount, a.currency);
        if (amount === 0n) throw invalid('amount', 'must not be zero');
        let applied: { topup_id: string };
        try {
          const { rows } = await c.query<{ topup_id: string }>(
            'SELECT topup_id::text AS topup_id FROM rating_top_up($1::uuid, $2, $3::bigint, $4, $5, $6, $7)',
            [uuidv7(), a.id, amount.toString(), a.currency, req.idempotencyKey, req.reference, actor],
          );
          applied = rows[0]!;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === '23505')
            throw new RpcError(
              status.ALREADY_EXISTS,
              `idempotency_key: ${JSON.stringify(req.idempotencyKey)} was used for a different top-up`,
            );
          if (code === '23514')
            throw new RpcError(status.FAILED_PRECONDITION, `amount: ${(err as Error).message}`);
          throw err;
        }
        const { rows } = await c.query<TopUpRow>(`${TOPUP_SELECT} WHERE id = $1::uuid`, [applied.topup_id]);
        return { topUp: topUpFromRow(rows[0]!), balance: accountBalance(a, await balanceRow(c, a.id)) };
      });
      await ctx.publisher.balance(out.balance);
      return out;
    },

    async listTopUps(req: ListTopUpsRequest) {
      if (!isUuid(req.accountId)) throw invalid('account_id', 'must be an account id (UUID)');
      const size = pageSize(req.pageSize);
      let cursor: { t: string; i: string } | undefined;
      if (req.pageToken !== '') {
        try {
          cursor = JSON.parse(Buffer.from(req.pageToken, 'base64url').toString('utf8')) as {
            t: string;
            i: string;
          };
          if (typeof cursor.t !== 'string' || !isUuid(cursor.i)) throw new Error('bad token');
        } catch {
          throw invalid('page_token', 'is not a token this API returned');
        }
      }
      const { rows } = await ctx.pool.query<TopUpRow & { ts: string }>(
        `SELECT *, created_at::text AS ts FROM (${TOPUP_SELECT}) t
          WHERE account_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
            AND ($3::timestamptz IS NULL OR created_at < $3)
            AND ($4::timestamptz IS NULL OR (created_at, id::uuid) < ($4::timestamptz, $5::uuid))
          ORDER BY created_at DESC, id DESC LIMIT $6`,
        [
          req.accountId,
          req.startTime ?? null,
          req.endTime ?? null,
          cursor?.t ?? null,
          cursor?.i ?? null,
          size + 1,
        ],
      );
      const page = rows.slice(0, size);
      const last = page[page.length - 1];
      return {
        topUps: page.map(topUpFromRow),
        nextPageToken:
          rows.length > size && last
            ? Buffer.from(JSON.stringify({ t: last.ts, i: last.id })).toString('base64url')
            : '',
      };
    },

    async setCreditLimit(req: SetCreditLimitRequest) {
      const out = await tx(ctx, 'credit_limit', async (c) => {
        const a = await loadAccount(c, req.accountId, true);
        if (!a) throw notFound('account', req.accountId);
        const limit = toMinor('credit_limit', req.creditLimit, a.currency);
        if (limit < 0n) throw invalid('credit_limit', 'must not be negative');
        const { rows } = await c.query<AccountRow>(
          `UPDATE accounts SET credit_limit_minor = $2::bigint, revision = revision + 1 WHERE id = $1::uuid
           RETURNING id::text AS id, billing_mode, currency, credit_limit_minor::text AS credit_limit_minor`,
          [a.id, limit.toString()],
        );
        // A new balances.v1 revision, so ingress (which ignores records not newer than the one it holds) applies it.
        await c.query(
          `INSERT INTO rating_balances AS b (account_id, currency, balance_minor, revision) VALUES ($1, $2, 0, 1)
           ON CONFLICT (account_id) DO UPDATE SET revision = b.revision + 1, updated_at = now()`,
          [a.id, a.currency],
        );
        const updated = (await loadAccount(c, a.id))!;
        return {
          balance: accountBalance(rows[0]!, await balanceRow(c, a.id)),
          account: accountFromRow(updated),
        };
      });
      // Rating keeps credit limits in its catalog (reloaded on an account change); ingress reads balances.v1.
      await ctx.publisher.change({
        kind: ResourceKind.RESOURCE_KIND_ACCOUNT,
        action: ChangeAction.CHANGE_ACTION_UPDATED,
        resourceId: out.account.id,
        revision: out.account.revision,
        snapshot: { $case: 'account', value: out.account },
      });
      await ctx.publisher.balance(out.balance);
      return { balance: out.balance };
    },
  };
}
