// Accounts: smshub.config.v1.Account <-> the `accounts` table (0001, routing's 0300 and rating's 0500
// columns, admin's 0600). One SMPP credential per account (accounts.system_id is the table's key for binds).
// Ingress, routing and rating reload accounts on a RESOURCE_KIND_ACCOUNT change.
import net from 'node:net';
import { status } from '@grpc/grpc-js';
import {
  AccountState,
  BillingMode,
  ChangeAction,
  ChargeOn,
  ResourceKind,
  TrafficType,
  type Account,
  type CreateAccountRequest,
  type DeleteAccountRequest,
  type GetAccountRequest,
  type ListAccountsRequest,
  type SetSmppPasswordRequest,
  type UpdateAccountRequest,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { hashPassword } from '@smshub/secrets';
import { read, tx, type AdminContext } from '../context.js';
import { failedPrecondition, invalid, notFound, checkRevision, RpcError } from '../errors.js';
import { deleteResource } from './delete.js';
import {
  applyMask,
  country,
  currency,
  decodePageToken,
  pageOf,
  expectedRevision,
  intRange,
  isUuid,
  pageSize,
  requireText,
  uuidv7,
  OUTPUT_ONLY,
} from '../validate.js';

const STATES: Record<number, string> = {
  [AccountState.ACCOUNT_STATE_ACTIVE]: 'active',
  [AccountState.ACCOUNT_STATE_SUSPENDED]: 'suspended',
  [AccountState.ACCOUNT_STATE_CLOSED]: 'closed',
};
const BILLING: Record<number, string> = {
  [BillingMode.BILLING_MODE_PREPAID]: 'prepaid',
  [BillingMode.BILLING_MODE_POSTPAID]: 'postpaid',
};
const CHARGE_ON: Record<number, string> = {
  [ChargeOn.CHARGE_ON_SUBMIT]: 'submit',
  [ChargeOn.CHARGE_ON_DELIVERY]: 'delivery',
};
export const TRAFFIC: Record<number, string> = {
  [TrafficType.TRAFFIC_TYPE_UNSPECIFIED]: 'UNSPECIFIED',
  [TrafficType.TRAFFIC_TYPE_OTP]: 'OTP',
  [TrafficType.TRAFFIC_TYPE_TRANSACTIONAL]: 'TRANSACTIONAL',
  [TrafficType.TRAFFIC_TYPE_MARKETING]: 'MARKETING',
};
const MESSAGE_ID_FORMATS = ['', 'uuid', 'hex', 'decimal'];

export function reverse(m: Record<number, string>, v: string): number {
  for (const [k, name] of Object.entries(m)) if (name === v) return Number(k);
  return 0;
}

/** Column values of one account as the admin writes them. */
export interface AccountValues {
  id: string;
  name: string;
  state: string;
  billingMode: string;
  currency: string;
  systemId: string;
  allowedCidrs: string[];
  maxBinds: number;
  tpsLimit: number;
  maxWindow: number;
  defaultTrafficType: string;
  allowedSources: string[];
  receiptIncludeText: boolean;
  messageIdFormat: string;
  routingGroup: string | null;
  defaultCountry: string | null;
  pricePlanId: string | null;
  defaultValiditySeconds: number;
  chargeOn: string;
  refuseUnrated: boolean;
  moReassemble: boolean;
}

function cidr(field: string, v: string): string {
  const [ip, len, extra] = v.split('/');
  const family = net.isIP(ip ?? '');
  const max = family === 6 ? 128 : 32;
  if (
    family === 0 ||
    extra !== undefined ||
    (len !== undefined && !/^\d{1,3}$/.test(len)) ||
    Number(len ?? 0) > max
  )
    throw invalid(field, `${JSON.stringify(v)} is not an IP network (e.g. 10.0.0.0/8)`);
  // PostgreSQL's cidr refuses host bits right of the prefix (10.0.0.1/8): an INVALID_ARGUMENT that says
  // which network was meant rather than a database error.
  if (family === 4 && len !== undefined) {
    const n = (ip as string).split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const bits = Number(len);
    const network = (n & (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0)) >>> 0;
    if (network !== n) {
      const dotted = [24, 16, 8, 0].map((s) => (network >>> s) & 255).join('.');
      throw invalid(field, `${JSON.stringify(v)} has host bits set: did you mean ${dotted}/${bits}?`);
    }
  }
  return v;
}

/**
 * Validates an Account for a write and returns its column values. `password` is the write-only clear
 * password of the credential (required on create, ignored on update).
 */
export function accountValues(a: Account, create: boolean): { values: AccountValues; password?: string } {
  let id = a.id;
  if (id === '' && create) id = uuidv7();
  if (!isUuid(id))
    throw invalid('account.id', 'must be a UUID (leave it empty on create to have one generated)');
  const state = a.state === AccountState.ACCOUNT_STATE_UNSPECIFIED ? 'active' : STATES[a.state];
  if (!state) throw invalid('account.state', 'must be ACTIVE, SUSPENDED or CLOSED');
  const billingMode =
    a.billingMode === BillingMode.BILLING_MODE_UNSPECIFIED ? 'prepaid' : BILLING[a.billingMode];
  if (!billingMode) throw invalid('account.billing_mode', 'must be PREPAID or POSTPAID');
  const chargeOn = a.chargeOn === ChargeOn.CHARGE_ON_UNSPECIFIED ? 'submit' : CHARGE_ON[a.chargeOn];
  if (!chargeOn) throw invalid('account.charge_on', 'must be SUBMIT or DELIVERY');
  const traffic = TRAFFIC[a.defaultTrafficType];
  if (!traffic) throw invalid('account.default_traffic_type', 'is not a known traffic type');
  if (a.smppCredentials.length !== 1)
    throw invalid('account.smpp_credentials', 'must hold exactly one credential (one system_id per account)');
  const c = a.smppCredentials[0]!;
  const f = 'account.smpp_credentials[0]';
  if (!/^[\x21-\x7e]{1,15}$/.test(c.systemId))
    throw invalid(`${f}.system_id`, 'must be 1-15 printable ASCII characters without spaces');
  let password: string | undefined;
  if (create) {
    password = smppPassword(`${f}.password`, c.password);
  }
  c.allowedCidrs.forEach((v, i) => cidr(`${f}.allowed_cidrs[${i}]`, v));
  a.allowedSources.forEach((s, i) => {
    try {
      new RegExp(s);
    } catch {
      throw invalid(`account.allowed_sources[${i}]`, 'is not a valid regular expression');
    }
  });
  if (!MESSAGE_ID_FORMATS.includes(a.messageIdFormat))
    throw invalid('account.message_id_format', 'must be empty, "uuid", "hex" or "decimal"');
  if (a.routingGroup !== '') requireText('account.routing_group', a.routingGroup, 64);
  if (a.defaultCountry !== '') country('account.default_country', a.defaultCountry);
  if (a.pricePlanId !== '') requireText('account.price_plan_id', a.pricePlanId, 64);
  return {
    values: {
      id,
      name: requireText('account.name', a.name, 200),
      state,
      billingMode,
      currency: currency('account.currency_code', a.currencyCode),
      systemId: c.systemId,
      allowedCidrs: c.allowedCidrs,
      maxBinds: c.maxBinds === 0 ? 1 : intRange(`${f}.max_binds`, c.maxBinds, 1, 1000),
      tpsLimit: c.maxSubmitRate === 0 ? 10 : intRange(`${f}.max_submit_rate`, c.maxSubmitRate, 1, 1_000_000),
      maxWindow: c.windowSize === 0 ? 10 : intRange(`${f}.window_size`, c.windowSize, 1, 10_000),
      defaultTrafficType: traffic,
      allowedSources: a.allowedSources,
      receiptIncludeText: a.receiptIncludeText,
      messageIdFormat: a.messageIdFormat,
      routingGroup: a.routingGroup || null,
      defaultCountry: a.defaultCountry || null,
      pricePlanId: a.pricePlanId || null,
      defaultValiditySeconds:
        a.defaultValiditySeconds === 0
          ? 172_800
          : intRange('account.default_validity_seconds', a.defaultValiditySeconds, 60, 30 * 86_400),
      chargeOn,
      // Unset = on: a new account never sends messages nobody is billed for unless asked to.
      refuseUnrated: a.refuseUnrated ?? true,
      // Unset = on: long inbound messages reach the customer whole.
      moReassemble: a.moReassemble ?? true,
    },
    ...(password !== undefined ? { password } : {}),
  };
}

export function smppPassword(field: string, v: string): string {
  if (v === '') throw invalid(field, 'is required');
  if (!/^[\x20-\x7e]{1,8}$/.test(v))
    throw invalid(field, 'must be 1-8 printable ASCII characters (SMPP limit)');
  return v;
}

export interface AccountRow {
  id: string;
  name: string;
  state: string;
  billing_mode: string;
  currency: string;
  system_id: string;
  allowed_cidrs: string[];
  max_binds: number;
  tps_limit: number;
  max_window: number;
  default_traffic_type: string;
  allowed_sources: string[];
  receipt_include_text: boolean;
  message_id_format: string;
  routing_group: string | null;
  default_country: string | null;
  price_plan_id: string | null;
  default_validity_seconds: number;
  charge_on: string;
  refuse_unrated: boolean;
  mo_reassemble: boolean;
  credit_limit_minor: string;
  revision: string;
  created_at: Date;
  updated_at: Date;
}

export const ACCOUNT_COLUMNS = `id::text AS id, name, state, billing_mode, currency, system_id,
  allowed_cidrs::text[] AS allowed_cidrs, max_binds, tps_limit, max_window, default_traffic_type, allowed_sources,
  receipt_include_text, message_id_format, routing_group, default_country, price_plan_id, default_validity_seconds,
  charge_on, refuse_unrated, mo_reassemble, credit_limit_minor::text AS credit_limit_minor, revision::text AS revision, created_at, updated_at`;

/** The API form of a row: password hashes are never returned. */
export function accountFromRow(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    state: reverse(STATES, r.state),
    billingMode: reverse(BILLING, r.billing_mode),
    currencyCode: r.currency,
    smppCredentials: [
      {
        systemId: r.system_id,
        passwordHash: '',
        password: '',
        allowedCidrs: r.allowed_cidrs,
        maxBinds: r.max_binds,
        maxSubmitRate: r.tps_limit,
        windowSize: r.max_window,
      },
    ],
    defaultTrafficType: reverse(TRAFFIC, r.default_traffic_type),
    allowedSources: r.allowed_sources,
    receiptIncludeText: r.receipt_include_text,
    messageIdFormat: r.message_id_format,
    revision: BigInt(r.revision),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    routingGroup: r.routing_group ?? '',
    defaultCountry: r.default_country ?? '',
    pricePlanId: r.price_plan_id ?? '',
    defaultValiditySeconds: r.default_validity_seconds,
    chargeOn: reverse(CHARGE_ON, r.charge_on),
    refuseUnrated: r.refuse_unrated,
    moReassemble: r.mo_reassemble,
  };
}

export async function loadAccount(c: PoolClient, id: string, lock = false): Promise<AccountRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await c.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1::uuid${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

async function checkPlan(c: PoolClient, planId: string | null): Promise<void> {
  if (planId === null) return;
  const { rowCount } = await c.query('SELECT 1 FROM rating_price_plans WHERE id = $1', [planId]);
  if (!rowCount)
    throw failedPrecondition(`account.price_plan_id: price plan ${JSON.stringify(planId)} does not exist`);
}

async function checkSystemIdFree(c: PoolClient, systemId: string, accountId: string): Promise<void> {
  const { rows } = await c.query<{ id: string }>('SELECT id::text AS id FROM accounts WHERE system_id = $1', [
    systemId,
  ]);
  if (rows[0] && rows[0].id !== accountId)
    throw invalidAlready(
      `account.smpp_credentials[0].system_id: ${JSON.stringify(systemId)} is used by another account`,
    );
}

function invalidAlready(message: string): RpcError {
  return new RpcError(status.ALREADY_EXISTS, message);
}

function accountChange(action: ChangeAction, a: Account) {
  return {
    kind: ResourceKind.RESOURCE_KIND_ACCOUNT,
    action,
    resourceId: a.id,
    revision: a.revision,
    snapshot: { $case: 'account' as const, value: a },
  };
}

export function accountHandlers(ctx: AdminContext) {
  const hashOpts = ctx.passwordHashOptions ?? {};
  return {
    async createAccount(req: CreateAccountRequest) {
      if (!req.account) throw invalid('account', 'is required');
      const { values: v, password } = accountValues(req.account, true);
      const hash = await hashPassword(password!, hashOpts);
      const account = await tx(ctx, 'account', async (c) => {
        const { rowCount } = await c.query('SELECT 1 FROM accounts WHERE id = $1::uuid', [v.id]);
        if (rowCount) throw invalidAlready(`account ${JSON.stringify(v.id)} already exists`);
        await checkSystemIdFree(c, v.systemId, v.id);
        await checkPlan(c, v.pricePlanId);
        const { rows } = await c.query<AccountRow>(
          `INSERT INTO accounts (id, name, state, enabled, billing_mode, currency, system_id, password_hash,
             allowed_cidrs, max_binds, tps_limit, max_window, default_traffic_type, allowed_sources,
             receipt_include_text, message_id_format, routing_group, default_country, price_plan_id,
             default_validity_seconds, charge_on, refuse_unrated, mo_reassemble)
           VALUES ($1::uuid, $2, $3, $3 = 'active', $4, $5, $6, $7, $8::cidr[], $9, $10, $11, $12, $13, $14, $15, $16,
                   $17, $18, $19, $20, $21, $22)
           RETURNING ${ACCOUNT_COLUMNS}`,
          [
            v.id,
            v.name,
            v.state,
            v.billingMode,
            v.currency,
            v.systemId,
            hash,
            v.allowedCidrs,
            v.maxBinds,
            v.tpsLimit,
            v.maxWindow,
            v.defaultTrafficType,
            v.allowedSources,
            v.receiptIncludeText,
            v.messageIdFormat,
            v.routingGroup,
            v.defaultCountry,
            v.pricePlanId,
            v.defaultValiditySeconds,
            v.chargeOn,
            v.refuseUnrated,
            v.moReassemble,
          ],
        );
        return accountFromRow(rows[0]!);
      });
      await ctx.publisher.change(accountChange(ChangeAction.CHANGE_ACTION_CREATED, account));
      return { account };
    },

    async getAccount(req: GetAccountRequest) {
      const row = await read(ctx, 'account', async (p) => {
        if (!isUuid(req.id)) return undefined;
        const { rows } = await p.query<AccountRow>(
          `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1::uuid`,
          [req.id],
        );
        return rows[0];
      });
      if (!row) throw notFound('account', req.id);
      return { account: accountFromRow(row) };
    },

    async listAccounts(req: ListAccountsRequest) {
      const size = pageSize(req.pageSize);
      const filters = { state: req.state };
      const after = decodePageToken(req.pageToken, filters);
      if (after !== undefined && !isUuid(after))
        throw invalid('page_token', 'is not a token this API returned');
      const state = req.state === AccountState.ACCOUNT_STATE_UNSPECIFIED ? null : STATES[req.state];
      if (state === undefined) throw invalid('state', 'is not a known account state');
      const { rows } = await ctx.pool.query<AccountRow>(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts
          WHERE ($1::text IS NULL OR state = $1) AND ($2::uuid IS NULL OR id > $2::uuid)
          ORDER BY id LIMIT $3`,
        [state, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.id, filters);
      return { accounts: page.map(accountFromRow), nextPageToken };
    },

    async updateAccount(req: UpdateAccountRequest) {
      if (!req.account) throw invalid('account', 'is required');
      const id = req.account.id;
      const expected = expectedRevision(req.expectedRevision);
      const account = await tx(ctx, 'account', async (c) => {
        const stored = await loadAccount(c, id, true);
        if (!stored) throw notFound('account', id);
        const current = accountFromRow(stored);
        checkRevision('account', id, expected, current.revision);
        const merged = applyMask(current, req.account!, req.updateMask, 'Account', ['id', ...OUTPUT_ONLY]);
        // A full replacement that leaves refuse_unrated unset keeps the stored value.
        merged.refuseUnrated ??= current.refuseUnrated;
        merged.moReassemble ??= current.moReassemble;
        const { values: v } = accountValues({ ...merged, id }, false);
        await checkSystemIdFree(c, v.systemId, id);
        await checkPlan(c, v.pricePlanId);
        if (v.currency !== stored.currency) {
          const bal = await c.query(
            'SELECT 1 FROM rating_balances WHERE account_id = $1 AND currency <> $2',
            [id, v.currency],
          );
          if (bal.rowCount)
            throw failedPrecondition(
              `account.currency_code: the account already has a ${stored.currency} balance`,
            );
        }
        const { rows } = await c.query<AccountRow>(
          `UPDATE accounts SET name = $2, state = $3, enabled = ($3 = 'active'), billing_mode = $4, currency = $5,
             system_id = $6, allowed_cidrs = $7::cidr[], max_binds = $8, tps_limit = $9, max_window = $10,
             default_traffic_type = $11, allowed_sources = $12, receipt_include_text = $13, message_id_format = $14,
             routing_group = $15, default_country = $16, price_plan_id = $17, default_validity_seconds = $18,
             charge_on = $19, refuse_unrated = $20, mo_reassemble = $21, revision = revision + 1
           WHERE id = $1::uuid RETURNING ${ACCOUNT_COLUMNS}`,
          [
            id,
            v.name,
            v.state,
            v.billingMode,
            v.currency,
            v.systemId,
            v.allowedCidrs,
            v.maxBinds,
            v.tpsLimit,
            v.maxWindow,
            v.defaultTrafficType,
            v.allowedSources,
            v.receiptIncludeText,
            v.messageIdFormat,
            v.routingGroup,
            v.defaultCountry,
            v.pricePlanId,
            v.defaultValiditySeconds,
            v.chargeOn,
            v.refuseUnrated,
            v.moReassemble,
          ],
        );
        return accountFromRow(rows[0]!);
      });
      await ctx.publisher.change(accountChange(ChangeAction.CHANGE_ACTION_UPDATED, account));
      return { account };
    },

    async deleteAccount(req: DeleteAccountRequest) {
      return deleteResource(ctx, {
        kind: ResourceKind.RESOURCE_KIND_ACCOUNT,
        what: 'account',
        txName: 'account',
        id: req.id,
        expectedRevision: req.expectedRevision,
        load: loadAccount,
        remove: async (c) => {
          const used = await c.query<{ what: string; id: string }>(
            `SELECT 'routing rule' AS what, id FROM routing_rules WHERE $1 = ANY(account_ids)
         UNION ALL SELECT 'firewall rule', id FROM routing_firewall_rules WHERE $1 = ANY(account_ids)
         UNION ALL SELECT 'sell rate', id FROM rating_rates WHERE owner_kind = 'account' AND owner_id = $1
         LIMIT 5`,
            [req.id],
          );
          if (used.rows.length > 0)
            throw failedPrecondition(
              `account ${JSON.stringify(req.id)} is still used by ${used.rows.map((r) => `${r.what} ${r.id}`).join(', ')}`,
            );
          await c.query('DELETE FROM accounts WHERE id = $1::uuid', [req.id]);
        },
      });
    },

    async setSmppPassword(req: SetSmppPasswordRequest) {
      const password = smppPassword('password', req.password);
      if (req.systemId === '') throw invalid('system_id', 'is required');
      const hash = await hashPassword(password, hashOpts);
      const account = await tx(ctx, 'account', async (c) => {
        const stored = await loadAccount(c, req.accountId, true);
        if (!stored) throw notFound('account', req.accountId);
        if (stored.system_id !== req.systemId)
          throw invalid(
            'system_id',
            `${JSON.stringify(req.systemId)} is not a system_id of account ${req.accountId}`,
          );
        const { rows } = await c.query<AccountRow>(
          `UPDATE accounts SET password_hash = $2, revision = revision + 1 WHERE id = $1::uuid
           RETURNING ${ACCOUNT_COLUMNS}`,
          [req.accountId, hash],
        );
        return accountFromRow(rows[0]!);
      });
      await ctx.publisher.change(accountChange(ChangeAction.CHANGE_ACTION_UPDATED, account));
      return { revision: account.revision };
    },
  };
}
