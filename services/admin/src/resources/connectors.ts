// Connectors: smshub.config.v1.Connector <-> egress_connectors (0200; one bind per connector) plus the
// supplier in rating_connectors (0500). Egress, routing and rating reload on RESOURCE_KIND_CONNECTOR.
// Passwords are sealed with CONNECTOR_SECRET_KEY, AAD = connector id, exactly as egress opens them.
import {
  ChangeAction,
  MessageIdFormat,
  ResourceKind,
  type Connector,
  type CreateConnectorRequest,
  type DeleteConnectorRequest,
  type GetConnectorRequest,
  type ListConnectorsRequest,
  type UpdateConnectorRequest,
} from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { sealSecret } from '@smshub/secrets';
import { tx, type AdminContext } from '../context.js';
import { alreadyExists, failedPrecondition, invalid, notFound, checkRevision } from '../errors.js';
import { deleteResource } from './delete.js';
import {
  applyMask,
  currency,
  decodePageToken,
  pageOf,
  expectedRevision,
  intRange,
  pageSize,
  requireId,
  requireText,
  OUTPUT_ONLY,
} from '../validate.js';
import { reverse } from './accounts.js';

const ID_FORMATS: Record<number, string> = {
  [MessageIdFormat.MESSAGE_ID_FORMAT_UNSPECIFIED]: 'unspecified',
  [MessageIdFormat.MESSAGE_ID_FORMAT_VERBATIM]: 'verbatim',
  [MessageIdFormat.MESSAGE_ID_FORMAT_HEX_RESP_DECIMAL_RECEIPT]: 'hex_resp_decimal_receipt',
  [MessageIdFormat.MESSAGE_ID_FORMAT_DECIMAL_RESP_HEX_RECEIPT]: 'decimal_resp_hex_receipt',
};

export interface ConnectorValues {
  id: string;
  name: string;
  enabled: boolean;
  host: string;
  port: number;
  tls: boolean;
  systemId: string;
  systemType: string;
  /** New clear password to seal, or a secret reference; both undefined = keep the stored one. */
  password?: string;
  passwordSecretRef?: string;
  interfaceVersion: number;
  bindType: string;
  sessions: number;
  windowSize: number;
  maxSubmitRate: number;
  responseTimeoutMs: number;
  messageIdFormat: string;
  receiptTimeZone: string;
  payload: boolean;
  currency: string | null;
  supplierId: string | null;
}

function timeZone(field: string, v: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
  } catch {
    throw invalid(field, `${JSON.stringify(v)} is not an IANA time zone`);
  }
  return v;
}

/** Validates a Connector for a write. On create a password or secret reference is required. */
export function connectorValues(c: Connector, create: boolean): ConnectorValues {
  const id = requireId('connector.id', c.id);
  if (c.binds.length !== 1) throw invalid('connector.binds', 'must hold exactly one bind');
  const b = c.binds[0]!;
  const f = 'connector.binds[0]';
  if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(b.host))
    throw invalid(`${f}.host`, 'must be a host name or IP address');
  if (!/^[\x21-\x7e]{1,15}$/.test(b.systemId))
    throw invalid(`${f}.system_id`, 'must be 1-15 printable ASCII characters');
  if (b.password !== '' && b.passwordSecretRef !== '')
    throw invalid(`${f}.password`, 'give either password or password_secret_ref, not both');
  if (b.password !== '' && !/^[\x20-\x7e]{1,8}$/.test(b.password))
    throw invalid(`${f}.password`, 'must be 1-8 printable ASCII characters (SMPP limit)');
  if (b.passwordSecretRef !== '' && !/^file:\/\S+$/.test(b.passwordSecretRef))
    throw invalid(`${f}.password_secret_ref`, 'must be "file:/path" of a mounted secret');
  if (create && b.password === '' && b.passwordSecretRef === '')
    throw invalid(`${f}.password`, 'is required (or password_secret_ref)');
  const interfaceVersion = b.interfaceVersion === 0 ? 0x34 : b.interfaceVersion;
  if (interfaceVersion !== 0x34 && interfaceVersion !== 0x50)
    throw invalid(`${f}.interface_version`, 'must be 52 (0x34, SMPP 3.4) or 80 (0x50, SMPP 5.0)');
  const idFormat = ID_FORMATS[c.messageIdFormat];
  if (idFormat === undefined) throw invalid('connector.message_id_format', 'is not a known format');
  if (c.maxSubmitRate === 0)
    throw invalid('connector.max_submit_rate', 'is required (the supplier TPS, > 0)');
  if (c.supplierId !== '') requireText('connector.supplier_id', c.supplierId, 64);
  return {
    id,
    name: requireText('connector.name', c.name, 200),
    enabled: c.enabled,
    host: b.host,
    port: intRange(`${f}.port`, b.port, 1, 65535),
    tls: b.tls,
    systemId: b.systemId,
    systemType: requireText(`${f}.system_type`, b.systemType, 12),
    ...(b.password !== '' ? { password: b.password } : {}),
    ...(b.passwordSecretRef !== '' ? { passwordSecretRef: b.passwordSecretRef } : {}),
    interfaceVersion,
    bindType: b.transceiver ? 'transceiver' : 'transmitter_receiver',
    sessions: b.sessions === 0 ? 1 : intRange(`${f}.sessions`, b.sessions, 1, 64),
    windowSize: c.windowSize === 0 ? 10 : intRange('connector.window_size', c.windowSize, 1, 1000),
    maxSubmitRate: intRange('connector.max_submit_rate', c.maxSubmitRate, 1, 1_000_000),
    responseTimeoutMs:
      c.responseTimeoutMs === 0
        ? 30_000
        : intRange('connector.response_timeout_ms', c.responseTimeoutMs, 100, 600_000),
    messageIdFormat: idFormat,
    receiptTimeZone:
      c.receiptTimeZone === '' ? 'UTC' : timeZone('connector.receipt_time_zone', c.receiptTimeZone),
    payload: c.supportsMessagePayload,
    currency: c.currencyCode === '' ? null : currency('connector.currency_code', c.currencyCode),
    supplierId: c.supplierId === '' ? null : c.supplierId,
  };
}

interface ConnectorRow {
  id: string;
  name: string;
  enabled: boolean;
  host: string;
  port: number;
  tls: boolean;
  system_id: string;
  system_type: string;
  password_secret_ref: string | null;
  interface_version: number;
  bind_type: string;
  sessions: number;
  window_size: number;
  max_submit_rate: number;
  response_timeout_ms: number;
  message_id_format: string;
  receipt_time_zone: string;
  segmentation: string;
  currency: string | null;
  supplier_id: string | null;
  revision: string;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT c.id, c.name, c.enabled, c.host, c.port, c.tls, c.system_id, c.system_type, c.password_secret_ref,
  c.interface_version, c.bind_type, c.sessions, c.window_size, c.max_submit_rate, c.response_timeout_ms,
  c.message_id_format, c.receipt_time_zone, c.segmentation, c.currency, r.supplier_id, c.revision::text AS revision,
  c.created_at, c.updated_at
  FROM egress_connectors c LEFT JOIN rating_connectors r ON r.connector_id = c.id`;

/** The API form: passwords are never returned (a secret reference is not a secret and is). */
export function connectorFromRow(r: ConnectorRow): Connector {
  return {
    id: r.id,
    name: r.name,
    supplierId: r.supplier_id ?? '',
    enabled: r.enabled,
    binds: [
      {
        host: r.host,
        port: r.port,
        tls: r.tls,
        systemId: r.system_id,
        passwordSecretRef: r.password_secret_ref ?? '',
        password: '',
        systemType: r.system_type,
        interfaceVersion: r.interface_version,
        sessions: r.sessions,
        transceiver: r.bind_type === 'transceiver',
      },
    ],
    windowSize: r.window_size,
    maxSubmitRate: r.max_submit_rate,
    responseTimeoutMs: r.response_timeout_ms,
    messageIdFormat: reverse(ID_FORMATS, r.message_id_format),
    receiptTimeZone: r.receipt_time_zone,
    supportsMessagePayload: r.segmentation === 'payload',
    currencyCode: r.currency ?? '',
    revision: BigInt(r.revision),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

async function load(c: PoolClient, id: string, lock = false): Promise<ConnectorRow | undefined> {
  const { rows } = await c.query<ConnectorRow>(`${SELECT} WHERE c.id = $1${lock ? ' FOR UPDATE OF c' : ''}`, [
    id,
  ]);
  return rows[0];
}

async function writeSupplier(c: PoolClient, v: ConnectorValues): Promise<void> {
  if (v.supplierId === null) {
    await c.query('DELETE FROM rating_connectors WHERE connector_id = $1', [v.id]);
    return;
  }
  await c.query(
    `INSERT INTO rating_connectors (connector_id, supplier_id) VALUES ($1, $2)
     ON CONFLICT (connector_id) DO UPDATE SET supplier_id = EXCLUDED.supplier_id`,
    [v.id, v.supplierId],
  );
}

function change(action: ChangeAction, c: Connector) {
  return {
    kind: ResourceKind.RESOURCE_KIND_CONNECTOR,
    action,
    resourceId: c.id,
    revision: c.revision,
    snapshot: { $case: 'connector' as const, value: c },
  };
}

export function connectorHandlers(ctx: AdminContext) {
  const seal = (v: ConnectorValues) =>
    v.password !== undefined ? sealSecret(ctx.connectorKey, v.password, v.id) : null;
  return {
    async createConnector(req: CreateConnectorRequest) {
      if (!req.connector) throw invalid('connector', 'is required');
      const v = connectorValues(req.connector, true);
      const connector = await tx(ctx, 'connector', async (c) => {
        if (await load(c, v.id)) throw alreadyExists('connector', v.id);
        await c.query(
          `INSERT INTO egress_connectors (id, name, enabled, host, port, tls, system_id, system_type, password_sealed,
             password_secret_ref, interface_version, bind_type, sessions, window_size, max_submit_rate,
             response_timeout_ms, message_id_format, receipt_time_zone, segmentation, currency)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                   CASE WHEN $19 THEN 'payload' ELSE 'udh8' END, $20)`,
          [
            v.id,
            v.name,
            v.enabled,
            v.host,
            v.port,
            v.tls,
            v.systemId,
            v.systemType,
            seal(v),
            v.passwordSecretRef ?? null,
            v.interfaceVersion,
            v.bindType,
            v.sessions,
            v.windowSize,
            v.maxSubmitRate,
            v.responseTimeoutMs,
            v.messageIdFormat,
            v.receiptTimeZone,
            v.payload,
            v.currency,
          ],
        );
        await writeSupplier(c, v);
        return connectorFromRow((await load(c, v.id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_CREATED, connector));
      return { connector };
    },

    async getConnector(req: GetConnectorRequest) {
      const { rows } = await ctx.pool.query<ConnectorRow>(`${SELECT} WHERE c.id = $1`, [req.id]);
      if (!rows[0]) throw notFound('connector', req.id);
      return { connector: connectorFromRow(rows[0]) };
    },

    async listConnectors(req: ListConnectorsRequest) {
      const size = pageSize(req.pageSize);
      const filters = { supplierId: req.supplierId };
      const after = decodePageToken(req.pageToken, filters);
      const { rows } = await ctx.pool.query<ConnectorRow>(
        `${SELECT} WHERE ($1 = '' OR r.supplier_id = $1) AND ($2::text IS NULL OR c.id > $2) ORDER BY c.id LIMIT $3`,
        [req.supplierId, after ?? null, size + 1],
      );
      const { page, nextPageToken } = pageOf(rows, size, (r) => r.id, filters);
      return { connectors: page.map(connectorFromRow), nextPageToken };
    },

    async updateConnector(req: UpdateConnectorRequest) {
      if (!req.connector) throw invalid('connector', 'is required');
      const id = req.connector.id;
      const expected = expectedRevision(req.expectedRevision);
      const connector = await tx(ctx, 'connector', async (c) => {
        const stored = await load(c, id, true);
        if (!stored) throw notFound('connector', id);
        const current = connectorFromRow(stored);
        checkRevision('connector', id, expected, current.revision);
        const merged = applyMask(current, req.connector!, req.updateMask, 'Connector', [
          'id',
          ...OUTPUT_ONLY,
        ]);
        const v = connectorValues({ ...merged, id }, false);
        // Without a new password or reference the stored secret stays as it is.
        const secretChanged = v.password !== undefined || v.passwordSecretRef !== undefined;
        await c.query(
          `UPDATE egress_connectors SET name = $2, enabled = $3, host = $4, port = $5, tls = $6, system_id = $7,
             system_type = $8, interface_version = $9, bind_type = $10, sessions = $11, window_size = $12,
             max_submit_rate = $13, response_timeout_ms = $14, message_id_format = $15, receipt_time_zone = $16,
             segmentation = CASE WHEN $17 THEN 'payload' WHEN segmentation = 'payload' THEN 'udh8' ELSE segmentation END,
             currency = $18,
             password_sealed = CASE WHEN $19 THEN $20::bytea ELSE password_sealed END,
             password_secret_ref = CASE WHEN $19 THEN $21 ELSE password_secret_ref END,
             revision = revision + 1
           WHERE id = $1`,
          [
            id,
            v.name,
            v.enabled,
            v.host,
            v.port,
            v.tls,
            v.systemId,
            v.systemType,
            v.interfaceVersion,
            v.bindType,
            v.sessions,
            v.windowSize,
            v.maxSubmitRate,
            v.responseTimeoutMs,
            v.messageIdFormat,
            v.receiptTimeZone,
            v.payload,
            v.currency,
            secretChanged,
            seal(v),
            v.passwordSecretRef ?? null,
          ],
        );
        await writeSupplier(c, v);
        return connectorFromRow((await load(c, id))!);
      });
      await ctx.publisher.change(change(ChangeAction.CHANGE_ACTION_UPDATED, connector));
      return { connector };
    },

    async deleteConnector(req: DeleteConnectorRequest) {
      return deleteResource(ctx, {
        kind: ResourceKind.RESOURCE_KIND_CONNECTOR,
        what: 'connector',
        txName: 'connector',
        id: req.id,
        expectedRevision: req.expectedRevision,
        load: load,
        remove: async (c) => {
          const used = await c.query<{ what: string; id: string }>(
            `SELECT DISTINCT 'routing rule' AS what, rule_id AS id FROM routing_rule_candidates WHERE connector_id = $1
         UNION ALL SELECT 'buy rate', id FROM rating_rates WHERE owner_kind = 'connector' AND owner_id = $1
         LIMIT 5`,
            [req.id],
          );
          if (used.rows.length > 0)
            throw failedPrecondition(
              `connector ${JSON.stringify(req.id)} is still used by ${used.rows.map((r) => `${r.what} ${r.id}`).join(', ')}`,
            );
          await c.query('DELETE FROM rating_connectors WHERE connector_id = $1', [req.id]);
          await c.query('DELETE FROM egress_connectors WHERE id = $1', [req.id]);
        },
      });
    },
  };
}
