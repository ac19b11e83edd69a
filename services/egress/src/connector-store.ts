import { readFile } from 'node:fs/promises';
import type { Pool } from '@smshub/db';
import type { SegmentMethod } from '@smshub/smpp';
import type { BindMode, ConnectorConfig, MessageIdFormat } from './domain/connector.js';
import { openSecretWithKeys, sealSecret } from '@smshub/secrets';

/** A connector row could not be turned into a runnable connector (bad secret, missing file). */
export class ConnectorConfigError extends Error {
  readonly retriable = false;
  constructor(
    readonly connectorId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`connector ${connectorId}: ${message}`, options);
    this.name = 'ConnectorConfigError';
  }
}

interface Row {
  id: string;
  name: string;
  enabled: boolean;
  host: string;
  port: number;
  tls: boolean;
  system_id: string;
  system_type: string;
  password_sealed: Buffer | null;
  password_secret_ref: string | null;
  interface_version: number;
  bind_type: BindMode;
  sessions: number;
  window_size: number;
  max_submit_rate: number;
  response_timeout_ms: number;
  enquire_link_ms: number;
  data_codings: number[];
  gsm7_packed: boolean;
  segmentation: SegmentMethod;
  message_id_format: MessageIdFormat;
  receipt_time_zone: string;
  default_source_ton: number;
  default_source_npi: number;
  revision: string;
}

const COLUMNS = `id, name, enabled, host, port, tls, system_id, system_type, password_sealed, password_secret_ref,
  interface_version, bind_type, sessions, window_size, max_submit_rate, response_timeout_ms, enquire_link_ms,
  data_codings, gsm7_packed, segmentation, message_id_format, receipt_time_zone, default_source_ton,
  default_source_npi, revision`;

/** What an admin writes (tests use it too); the password is sealed before it reaches the database. */
export type ConnectorInput = Omit<ConnectorConfig, 'revision' | 'password'> &
  ({ password: string; passwordSecretRef?: undefined } | { password?: undefined; passwordSecretRef: string });

/** egress_connectors: load (with the password opened) and upsert (sealing the password). */
export class ConnectorStore {
  constructor(
    private readonly pool: Pool,
    private readonly secretKey: Buffer,
    /** Tried after secretKey while a key rotation is under way; upsert always seals with secretKey. */
    private readonly previousKeys: readonly Buffer[] = [],
  ) {}

  private async toConfig(r: Row): Promise<ConnectorConfig> {
    let password: string;
    if (r.password_sealed) {
      try {
        password = openSecretWithKeys(
          [this.secretKey, ...this.previousKeys],
          r.password_sealed,
          r.id,
        ).plaintext;
      } catch (err) {
        throw new ConnectorConfigError(r.id, 'password does not open with CONNECTOR_SECRET_KEY', {
          cause: err,
        });
      }
    } else {
      const path = (r.password_secret_ref ?? '').slice('file:'.length);
      try {
        password = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new ConnectorConfigError(r.id, `password secret ${r.password_secret_ref} cannot be read`, {
          cause: err,
        });
      }
    }
    return {
      id: r.id,
      name: r.name,
      enabled: r.enabled,
      host: r.host,
      port: r.port,
      tls: r.tls,
      systemId: r.system_id,
      password,
      systemType: r.system_type,
      interfaceVersion: r.interface_version,
      bindMode: r.bind_type,
      sessions: r.sessions,
      windowSize: r.window_size,
      maxSubmitRate: r.max_submit_rate,
      responseTimeoutMs: r.response_timeout_ms,
      enquireLinkMs: r.enquire_link_ms,
      dataCodings: r.data_codings.map(Number),
      gsm7Packed: r.gsm7_packed,
      segmentation: r.segmentation,
      messageIdFormat: r.message_id_format,
      receiptTimeZone: r.receipt_time_zone,
      defaultSourceTon: r.default_source_ton,
      defaultSourceNpi: r.default_source_npi,
      revision: BigInt(r.revision),
    };
  }

  /** Every connector; rows that cannot be opened are returned as errors, not thrown (one bad row must not stop the rest). */
  async loadAll(): Promise<{ connectors: ConnectorConfig[]; errors: ConnectorConfigError[] }> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM egress_connectors ORDER BY id`);
    const connectors: ConnectorConfig[] = [];
    const errors: ConnectorConfigError[] = [];
    for (const r of rows) {
      try {
        connectors.push(await this.toConfig(r));
      } catch (err) {
        errors.push(err as ConnectorConfigError);
      }
    }
    return { connectors, errors };
  }

  /** One connector, or undefined when it does not exist (deleted). */
  async load(id: string): Promise<ConnectorConfig | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM egress_connectors WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? this.toConfig(rows[0]) : undefined;
  }

  /** Insert or update (revision + 1). */
  async upsert(c: ConnectorInput): Promise<void> {
    const sealed = c.password !== undefined ? sealSecret(this.secretKey, c.password, c.id) : null;
    const ref = c.password === undefined ? c.passwordSecretRef : null;
    await this.pool.query(
      `INSERT INTO egress_connectors (id, name, enabled, host, port, tls, system_id, system_type, password_sealed,
         password_secret_ref, interface_version, bind_type, sessions, window_size, max_submit_rate, response_timeout_ms,
         enquire_link_ms, data_codings, gsm7_packed, segmentation, message_id_format, receipt_time_zone,
         default_source_ton, default_source_npi)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, enabled = EXCLUDED.enabled, host = EXCLUDED.host,
         port = EXCLUDED.port, tls = EXCLUDED.tls, system_id = EXCLUDED.system_id, system_type = EXCLUDED.system_type,
         password_sealed = EXCLUDED.password_sealed, password_secret_ref = EXCLUDED.password_secret_ref,
         interface_version = EXCLUDED.interface_version, bind_type = EXCLUDED.bind_type, sessions = EXCLUDED.sessions,
         window_size = EXCLUDED.window_size, max_submit_rate = EXCLUDED.max_submit_rate,
         response_timeout_ms = EXCLUDED.response_timeout_ms, enquire_link_ms = EXCLUDED.enquire_link_ms,
         data_codings = EXCLUDED.data_codings, gsm7_packed = EXCLUDED.gsm7_packed, segmentation = EXCLUDED.segmentation,
         message_id_format = EXCLUDED.message_id_format, receipt_time_zone = EXCLUDED.receipt_time_zone,
         default_source_ton = EXCLUDED.default_source_ton, default_source_npi = EXCLUDED.default_source_npi,
         revision = egress_connectors.revision + 1`,
      [
        c.id,
        c.name,
        c.enabled,
        c.host,
        c.port,
        c.tls,
        c.systemId,
        c.systemType,
        sealed,
        ref,
        c.interfaceVersion,
        c.bindMode,
        c.sessions,
        c.windowSize,
        c.maxSubmitRate,
        c.responseTimeoutMs,
        c.enquireLinkMs,
        c.dataCodings,
        c.gsm7Packed,
        c.segmentation,
        c.messageIdFormat,
        c.receiptTimeZone,
        c.defaultSourceTon,
        c.defaultSourceNpi,
      ],
    );
  }

  async delete(id: string): Promise<void> {
    await this.pool.query('DELETE FROM egress_connectors WHERE id = $1', [id]);
  }
}
