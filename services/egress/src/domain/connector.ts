import type { MessageIdFormat as SmppIdFormat, SegmentMethod } from '@smshub/smpp';
import { normalizeMessageId } from '@smshub/smpp';

/**
 * How a supplier writes its message ids, named after smshub.config.v1.MessageIdFormat plus two
 * same-base variants. Every format is insensitive to case, surrounding spaces and zero padding except
 * 'verbatim' (trim and lowercase only).
 */
export const MESSAGE_ID_FORMATS = [
  'unspecified',
  'verbatim',
  'hex_resp_decimal_receipt',
  'decimal_resp_hex_receipt',
  'hex',
  'decimal',
] as const;
export type MessageIdFormat = (typeof MESSAGE_ID_FORMATS)[number];

/** transceiver: N TRX sessions; transmitter_receiver: N TX + N RX sessions; transmitter: N TX (no receipts). */
export const BIND_MODES = ['transceiver', 'transmitter_receiver', 'transmitter'] as const;
export type BindMode = (typeof BIND_MODES)[number];

export const SEGMENT_METHODS: readonly SegmentMethod[] = ['udh8', 'udh16', 'sar', 'payload'];

/**
 * One supplier connector as egress runs it (table egress_connectors, docs in the migration). Field
 * names follow smshub.config.v1.Connector where both have the field (window_size, max_submit_rate,
 * response_timeout_ms, message_id_format, receipt_time_zone, sessions, system_type, interface_version).
 */
export interface ConnectorConfig {
  id: string;
  name: string;
  enabled: boolean;
  host: string;
  port: number;
  tls: boolean;
  systemId: string;
  /** Decrypted password; never logged (see redactConnector). */
  password: string;
  systemType: string;
  interfaceVersion: number;
  bindMode: BindMode;
  /** Sessions of each kind (binds). */
  sessions: number;
  windowSize: number;
  /** submit_sm per second across all sessions and all egress replicas. */
  maxSubmitRate: number;
  responseTimeoutMs: number;
  enquireLinkMs: number;
  /** data_coding values the supplier takes (0 GSM7, 1 IA5, 3 Latin-1, 8 UCS2, 2/4 binary). */
  dataCodings: number[];
  /** GSM7 is sent 7-bit packed (only when agreed with the supplier). */
  gsm7Packed: boolean;
  segmentation: SegmentMethod;
  messageIdFormat: MessageIdFormat;
  receiptTimeZone: string;
  defaultSourceTon: number;
  defaultSourceNpi: number;
  revision: bigint;
}

/** A connector without secrets, for logs and state endpoints. */
export function redactConnector(c: ConnectorConfig): Omit<ConnectorConfig, 'password'> & { password: '***' } {
  return { ...c, password: '***' };
}

/** The settings that need the sessions reopened when they change. */
export function sessionSettingsChanged(a: ConnectorConfig, b: ConnectorConfig): boolean {
  return (
    a.host !== b.host ||
    a.port !== b.port ||
    a.tls !== b.tls ||
    a.systemId !== b.systemId ||
    a.password !== b.password ||
    a.systemType !== b.systemType ||
    a.interfaceVersion !== b.interfaceVersion ||
    a.bindMode !== b.bindMode ||
    a.sessions !== b.sessions ||
    a.windowSize !== b.windowSize ||
    a.responseTimeoutMs !== b.responseTimeoutMs ||
    a.enquireLinkMs !== b.enquireLinkMs ||
    a.enabled !== b.enabled
  );
}

function formats(f: MessageIdFormat): { resp: SmppIdFormat; receiptText: SmppIdFormat } {
  switch (f) {
    case 'hex_resp_decimal_receipt':
      return { resp: 'hex', receiptText: 'dec' };
    case 'decimal_resp_hex_receipt':
      return { resp: 'dec', receiptText: 'hex' };
    case 'hex':
      return { resp: 'hex', receiptText: 'hex' };
    case 'decimal':
      return { resp: 'dec', receiptText: 'dec' };
    default:
      return { resp: 'as-is', receiptText: 'as-is' };
  }
}

/**
 * Normalises a supplier id as written in submit_sm_resp or the receipted_message_id TLV (`where`
 * 'resp'), or in the receipt text (`where` 'receipt_text'), so both sides of one message compare equal.
 */
export function normaliseSupplierId(
  id: string,
  format: MessageIdFormat,
  where: 'resp' | 'receipt_text',
): string {
  if (format === 'verbatim') return id.trim().toLowerCase();
  const f = formats(format);
  return normalizeMessageId(id, where === 'resp' ? f.resp : f.receiptText);
}
