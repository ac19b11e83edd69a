/**
 * The Kafka topic registry: every topic's name, layout, protobuf codec and record key.
 * docs/architecture.md explains each key; the unit tests pin them.
 */
import { AuditEvent } from './gen/smshub/admin/v1/audit.js';
import { DeadLetter } from './gen/smshub/common/v1/dead_letter.js';
import { BillingRated } from './gen/smshub/billing/v1/rated.js';
import { AccountBalance } from './gen/smshub/billing/v1/balance.js';
import { ConfigChange, ResourceKind } from './gen/smshub/config/v1/change.js';
import { SmsSubmitted } from './gen/smshub/sms/v1/submitted.js';
import { SmsRouted } from './gen/smshub/sms/v1/routed.js';
import { SmsRejected } from './gen/smshub/sms/v1/rejected.js';
import { SmsReroute } from './gen/smshub/sms/v1/reroute.js';
import { SmsDispatched } from './gen/smshub/sms/v1/dispatched.js';
import { SmsReceiptRaw } from './gen/smshub/sms/v1/receipt.js';
import { SmsMo } from './gen/smshub/sms/v1/mo.js';
import { SmsInbound } from './gen/smshub/sms/v1/inbound.js';
import { SmsDelivery } from './gen/smshub/sms/v1/delivery.js';
import { SmsPartStatus } from './gen/smshub/sms/v1/part_status.js';
import { DeliveryStats } from './gen/smshub/sms/v1/delivery_stats.js';
import { RouteSuspicion } from './gen/smshub/routing/v1/suspicion.js';
import { ConnectorState } from './gen/smshub/egress/v1/connector_state.js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';

export interface TopicSpec<T> {
  readonly name: string;
  readonly partitions: number;
  /** null = infinite. */
  readonly retentionMs: number | null;
  readonly compacted: boolean;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  key(value: T): string;
  /**
   * The hub message id a record is about, for topics keyed by something else (sms.dispatched.v1): the
   * record continues that message's trace. Topics keyed by the hub message id need none.
   */
  messageId?(value: T): string | undefined;
  readonly description: string;
}

/** Thrown by a topic's key() when the value lacks the field its key is made of (a producer bug). */
export class TopicKeyError extends Error {
  readonly retriable = false;
  constructor(topic: string, what: string) {
    super(`cannot key a record for ${topic}: ${what} is empty`);
    this.name = 'TopicKeyError';
  }
}

/** The part of a ts-proto message object the registry uses. */
export interface ProtoCodec<T> {
  encode(message: T, writer?: BinaryWriter): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** Records up to this size leave the shared writer's buffer in place for the next one. */
const WRITER_KEEP_BYTES = 16 * 1024;
let writer = new BinaryWriter();

/**
 * Encodes with one writer shared by every topic (encoding is synchronous, so never two at once): a new
 * writer starts at 128 bytes and doubles, copying, up to the record's size, for every record (a 300-byte
 * SmsDispatched: 6 -> 2.6 CPU-µs). `finish()` copies the bytes out and resets it. A writer left mid-record
 * by a throwing encode, or grown past WRITER_KEEP_BYTES, is replaced. Exported for services encoding
 * messages that are not topic records (e.g. a MessageContext stored in a row).
 */
export function encodeShared<T>(codec: ProtoCodec<T>, value: T): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = codec.encode(value, writer).finish();
  } catch (err) {
    writer = new BinaryWriter();
    throw err;
  }
  if (bytes.length > WRITER_KEEP_BYTES) writer = new BinaryWriter();
  return bytes;
}

const utf8 = new TextDecoder();
const DAY_MS = 24 * 60 * 60 * 1000;

/** Partitions of the message-flow topics: the unit of parallelism of every stage. */
export const MESSAGE_FLOW_PARTITIONS = 6;
/** Retention of the message-flow topics. */
export const MESSAGE_FLOW_RETENTION_MS = 7 * DAY_MS;

function defineTopic<T>(def: {
  name: string;
  partitions: number;
  retentionMs: number | null;
  compacted: boolean;
  description: string;
  codec: ProtoCodec<T>;
  key: (value: T) => string;
  messageId?: (value: T) => string | undefined;
}): TopicSpec<T> {
  const { codec } = def;
  return Object.freeze({
    name: def.name,
    partitions: def.partitions,
    retentionMs: def.retentionMs,
    compacted: def.compacted,
    description: def.description,
    encode: (value: T): Uint8Array => encodeShared(codec, value),
    decode: (bytes: Uint8Array): T => codec.decode(bytes),
    key: def.key,
    ...(def.messageId && { messageId: def.messageId }),
  });
}

function required(topic: string, what: string, value: string | undefined): string {
  if (!value) throw new TopicKeyError(topic, what);
  return value;
}

/**
 * Key of the dispatch/receipt join: "<connector_id>/<normalised supplier message id>". Egress writes
 * both sms.dispatched.v1 and sms.receipt.raw.v1 with it, so the submit_sm_resp and the receipt of one
 * supplier message land in the same partition and dlr joins them with partition-local state.
 */
export function supplierMessageKey(connectorId: string, normalisedSupplierMessageId: string): string {
  return `${connectorId}/${normalisedSupplierMessageId}`;
}

/** "routing_rule" for RESOURCE_KIND_ROUTING_RULE: the first part of a config.changes.v1 key. */
export function resourceKindSlug(kind: ResourceKind): string {
  const name = ResourceKind[kind] as string | undefined;
  if (
    name === undefined ||
    kind === ResourceKind.RESOURCE_KIND_UNSPECIFIED ||
    kind === ResourceKind.UNRECOGNIZED
  ) {
    throw new TopicKeyError('config.changes.v1', 'kind');
  }
  return name.slice('RESOURCE_KIND_'.length).toLowerCase();
}

/** Key of config.changes.v1: "<kind>/<resource id>", e.g. "connector/con_01". */
export function configChangeKey(kind: ResourceKind, resourceId: string): string {
  return `${resourceKindSlug(kind)}/${required('config.changes.v1', 'resource_id', resourceId)}`;
}

const flow = {
  partitions: MESSAGE_FLOW_PARTITIONS,
  retentionMs: MESSAGE_FLOW_RETENTION_MS,
  compacted: false,
};

export const topics = {
  submitted: defineTopic<SmsSubmitted>({
    name: 'sms.submitted.v1',
    ...flow,
    codec: SmsSubmitted,
    key: (v) => required('sms.submitted.v1', 'message_id', v.messageId),
    description: 'ingress -> routing: one accepted customer submission (one submit_sm / HTTP message).',
  }),
  scheduled: defineTopic<SmsSubmitted>({
    name: 'sms.scheduled.v1',
    ...flow,
    codec: SmsSubmitted,
    key: (v) => required('sms.scheduled.v1', 'message_id', v.messageId),
    description: 'ingress, http-api, routing -> scheduler: a message the hub holds until its hold_until.',
  }),
  routed: defineTopic<SmsRouted>({
    name: 'sms.routed.v1',
    ...flow,
    codec: SmsRouted,
    key: (v) => required('sms.routed.v1', 'message.message_id', v.message?.messageId),
    description: 'routing -> egress: the submitted message with its ordered candidate connectors.',
  }),
  rejected: defineTopic<SmsRejected>({
    name: 'sms.rejected.v1',
    ...flow,
    codec: SmsRejected,
    key: (v) => required('sms.rejected.v1', 'message.message_id', v.message?.messageId),
    description:
      'routing -> dlr: a message refused by a firewall/routing rule, with the customer-facing error.',
  }),
  dispatched: defineTopic<SmsDispatched>({
    name: 'sms.dispatched.v1',
    ...flow,
    codec: SmsDispatched,
    key: (v) =>
      v.supplierMessageIdNormalised
        ? supplierMessageKey(
            required('sms.dispatched.v1', 'connector_id', v.connectorId),
            v.supplierMessageIdNormalised,
          )
        : required('sms.dispatched.v1', 'context.message_id', v.context?.messageId),
    messageId: (v) => v.context?.messageId,
    description:
      'egress -> dlr: one submit_sm attempt; keyed like its receipt (connector/supplier id) when the supplier gave an id.',
  }),
  receiptRaw: defineTopic<SmsReceiptRaw>({
    name: 'sms.receipt.raw.v1',
    ...flow,
    codec: SmsReceiptRaw,
    key: (v) =>
      v.supplierMessageIdNormalised
        ? supplierMessageKey(
            required('sms.receipt.raw.v1', 'connector_id', v.connectorId),
            v.supplierMessageIdNormalised,
          )
        : required('sms.receipt.raw.v1', 'receipt_id', v.receiptId),
    description: 'egress -> dlr: a supplier delivery receipt as received, keyed like its dispatch.',
  }),
  mo: defineTopic<SmsMo>({
    name: 'sms.mo.v1',
    ...flow,
    codec: SmsMo,
    key: (v) =>
      `${required('sms.mo.v1', 'destination.address', v.destination?.address)}/${required('sms.mo.v1', 'source.address', v.source?.address)}`,
    description: 'egress -> inbound: a mobile-originated message (not a receipt) sent to a hub number.',
  }),
  inbound: defineTopic<SmsInbound>({
    name: 'sms.inbound.v1',
    ...flow,
    codec: SmsInbound,
    key: (v) =>
      `${required('sms.inbound.v1', 'destination.address', v.destination?.address)}/${required('sms.inbound.v1', 'source.address', v.source?.address)}`,
    messageId: (v) => v.messageId,
    description:
      'inbound -> ingress, webhooks, dlr, rating: an MO resolved to the account owning the hub number.',
  }),
  partStatus: defineTopic<SmsPartStatus>({
    name: 'dlr.parts.v1',
    ...flow,
    codec: SmsPartStatus,
    key: (v) => required('dlr.parts.v1', 'context.message_id', v.context?.messageId),
    description: 'dlr internal: part states re-keyed from supplier id to hub message id for aggregation.',
  }),
  delivery: defineTopic<SmsDelivery>({
    name: 'sms.delivery.v1',
    ...flow,
    codec: SmsDelivery,
    key: (v) => required('sms.delivery.v1', 'context.message_id', v.context?.messageId),
    description: 'dlr -> ingress, rating: normalised delivery status of a hub message.',
  }),
  reroute: defineTopic<SmsReroute>({
    name: 'sms.reroute.v1',
    ...flow,
    codec: SmsReroute,
    key: (v) => required('sms.reroute.v1', 'routed.message.message_id', v.routed?.message?.messageId),
    description:
      'dlr -> egress: send a message once more through its next candidate after a fast final failure.',
  }),
  rated: defineTopic<BillingRated>({
    name: 'billing.rated.v1',
    partitions: MESSAGE_FLOW_PARTITIONS,
    retentionMs: 30 * DAY_MS,
    compacted: false,
    codec: BillingRated,
    key: (v) => required('billing.rated.v1', 'message_id', v.messageId),
    description: 'rating -> finance: sell/buy/margin of a hub message; the key is the idempotency key.',
  }),
  configChanges: defineTopic<ConfigChange>({
    name: 'config.changes.v1',
    partitions: 1,
    retentionMs: null,
    compacted: true,
    codec: ConfigChange,
    key: (v) => configChangeKey(v.kind, v.resourceId),
    description: 'admin -> all: create/update/delete of configuration resources, latest state per resource.',
  }),
  balances: defineTopic<AccountBalance>({
    name: 'balances.v1',
    partitions: MESSAGE_FLOW_PARTITIONS,
    retentionMs: null,
    compacted: true,
    codec: AccountBalance,
    key: (v) => required('balances.v1', 'account_id', v.accountId),
    description: "rating/admin -> ingress: an account's latest balance and credit state.",
  }),
  audit: defineTopic<AuditEvent>({
    name: 'audit.v1',
    partitions: 1,
    retentionMs: 90 * DAY_MS,
    compacted: false,
    codec: AuditEvent,
    key: (v) => required('audit.v1', 'event_id', v.eventId),
    description:
      'admin -> SIEM: every admin write (who, what, before/after with secrets masked, from where).',
  }),
  deliveryStats: defineTopic<DeliveryStats>({
    name: 'delivery.stats.v1',
    partitions: 1,
    retentionMs: null,
    compacted: true,
    codec: DeliveryStats,
    key: (v) => {
      const connector = required('delivery.stats.v1', 'connector_id', v.connectorId);
      const d = v.destination;
      if (d?.$case === 'prefix')
        return `${connector}/prefix:${required('delivery.stats.v1', 'prefix', d.value)}`;
      if (d?.$case === 'mccMnc')
        return `${connector}/mccmnc:${required('delivery.stats.v1', 'mcc_mnc', d.value)}`;
      throw new TopicKeyError('delivery.stats.v1', 'destination');
    },
    description: 'dlr -> routing: delivery ratio and latency per connector and destination (latest window).',
  }),
  suspicion: defineTopic<RouteSuspicion>({
    name: 'routing.suspicion.v1',
    partitions: 1,
    // Compacted: the latest verdict per connector (and destination); a cleared one stays as suspected=false.
    retentionMs: null,
    compacted: true,
    codec: RouteSuspicion,
    key: (v) => {
      const connector = required('routing.suspicion.v1', 'connector_id', v.connectorId);
      return v.destination ? `${connector}/${v.destination}` : connector;
    },
    description:
      'routing -> routing/alerts/benchmark: a connector suspected of being a grey route (fake or late receipts), with the evidence; suspected=false when cleared.',
  }),
  connectorState: defineTopic<ConnectorState>({
    name: 'egress.connector-state.v1',
    partitions: 1,
    // Compacted: the latest record per connector and replica. A replica that died without its tombstone
    // leaves a record that readers show as stale (and drop after an hour).
    retentionMs: null,
    compacted: true,
    codec: ConnectorState,
    key: (v) =>
      `${required('egress.connector-state.v1', 'connector_id', v.connectorId)}/${required('egress.connector-state.v1', 'replica_id', v.replicaId)}`,
    description:
      'egress -> admin: live state of a connector on one egress replica (sessions, window, TPS, throttling); tombstone when the replica gives it up.',
  }),
} as const;

/** Keys of the registry: "submitted", "routed", ... */
export type TopicId = keyof typeof topics;

/** The registry under a namespace: every topic name becomes `<namespace>.<name>`; codecs and keys are kept. */
export function namespacedTopics<R extends Record<string, { readonly name: string }>>(
  registry: R,
  namespace: string | undefined,
): R {
  if (!namespace) return registry;
  return Object.fromEntries(
    Object.entries(registry).map(([id, spec]) => [id, { ...spec, name: `${namespace}.${spec.name}` }]),
  ) as R;
}

/** A consumer group (and so its `<group>.dlq` topic) under a namespace. */
export function namespacedGroup(groupId: string, namespace: string | undefined): string {
  return namespace ? `${namespace}.${groupId}` : groupId;
}

/** Payload type of a registry entry, e.g. TopicValue<'submitted'> is SmsSubmitted. */
export type TopicValue<K extends TopicId> = (typeof topics)[K] extends TopicSpec<infer T> ? T : never;

/** Retention of dead-letter topics: long enough to notice, fix and replay. */
export const DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;

/**
 * Name of a consumer group's dead-letter topic: `<group>.dlq` (one per consumer group, whatever topics
 * the group reads; the envelope/headers say which topic, partition and offset a record came from).
 */
export function deadLetterTopic(name: string): string {
  if (!name) throw new TypeError('deadLetterTopic: consumer group name is empty');
  return `${name}.dlq`;
}

/**
 * Spec of the dead-letter topic of `group` for DeadLetter envelopes. Key: the original record's key
 * (as UTF-8), or "<topic>/<partition>/<offset>" when it had none. Note: libs/kafka currently writes the
 * raw original record with x-dlq-* headers to `<group>.dlq`, not envelopes (docs/architecture.md).
 */
export function deadLetterSpec(group: string): TopicSpec<DeadLetter> {
  const name = deadLetterTopic(group);
  return defineTopic<DeadLetter>({
    name,
    partitions: 1,
    retentionMs: DEAD_LETTER_RETENTION_MS,
    compacted: false,
    codec: DeadLetter,
    key: (v) => (v.key.length > 0 ? utf8.decode(v.key) : `${v.topic}/${v.partition}/${v.offset}`),
    description: `Records consumer group "${group}" could not process, in DeadLetter envelopes.`,
  });
}
