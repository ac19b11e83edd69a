// SmsSubmitted (protobuf) -> RoutingRequest (domain), and a decision -> SmsRouted / SmsRejected.

import {
  NumberLookupSource,
  RoutingStrategy,
  TrafficType as ProtoTrafficType,
  SmsRejected,
  SmsRouted,
  type CustomerError as ProtoCustomerError,
  type NumberInfo,
  type SmsSubmitted,
} from '@smshub/contracts';
import { dataCodingInfo, decodeText, ESM_CLASS_UDHI, parseUdh } from '@smshub/smpp';
import type { PrefixTable } from './domain/prefix-table.js';
import { rerouteTerms } from './domain/reroute.js';
import { encodeRejectedWith, encodeRoutedWith } from './event-encoder.js';
import type {
  Destination,
  RejectCategory,
  RejectedDecision,
  RoutedDecision,
  RoutingRequest,
  StrategyKind,
  TrafficType,
} from './domain/types.js';

const TRAFFIC: Record<number, TrafficType> = {
  [ProtoTrafficType.TRAFFIC_TYPE_OTP]: 'OTP',
  [ProtoTrafficType.TRAFFIC_TYPE_TRANSACTIONAL]: 'TRANSACTIONAL',
  [ProtoTrafficType.TRAFFIC_TYPE_MARKETING]: 'MARKETING',
};

/** User data without the UDH (when esm_class has UDHI and the UDH parses). */
function userData(m: SmsSubmitted): Buffer {
  const bytes = m.shortMessage;
  if ((m.esmClass & ESM_CLASS_UDHI) === 0) return bytes;
  const r = parseUdh(bytes);
  return r.ok ? Buffer.from(r.payload) : bytes;
}

/**
 * Segments the message will need at the supplier: 1 for a part the customer already split (or one that
 * fits), otherwise the count egress's splitting gives (GSM 7-bit 153 septets, 8-bit 134 octets, UCS-2 134
 * octets per part; GSM extension characters are counted as sent, one septet each escape included).
 */
export function segmentCount(m: SmsSubmitted, payload: Buffer): number {
  if (m.concat) return 1;
  const gsm = dataCodingInfo(m.dataCoding).alphabet === 'gsm7';
  const single = gsm ? 160 : 140;
  const multi = gsm ? 153 : 134;
  return payload.length <= single ? 1 : Math.ceil(payload.length / multi);
}

/** The domain request for one submitted event; `accountGroup` from the account table. */
export function toRoutingRequest(m: SmsSubmitted, accountGroup: string | undefined): RoutingRequest {
  const payload = userData(m);
  const textual = dataCodingInfo(m.dataCoding).alphabet !== 'binary';
  return {
    hubMessageId: m.messageId,
    accountId: m.accountId,
    ...(accountGroup === undefined ? {} : { accountGroup }),
    sourceAddr: m.source?.address ?? '',
    sourceTon: m.source?.ton ?? 0,
    sourceNpi: m.source?.npi ?? 0,
    destinationAddr: m.destination?.address ?? '',
    destTon: m.destination?.ton ?? 0,
    destNpi: m.destination?.npi ?? 0,
    serviceType: m.serviceType,
    trafficType: TRAFFIC[m.trafficType] ?? 'UNSPECIFIED',
    text: textual ? decodeText(payload, m.dataCoding) : null,
    segments: segmentCount(m, payload),
    receivedAt: m.receivedAt ?? new Date(),
  };
}

const STRATEGY: Record<StrategyKind, RoutingStrategy> = {
  priority: RoutingStrategy.ROUTING_STRATEGY_PRIORITY,
  weighted: RoutingStrategy.ROUTING_STRATEGY_WEIGHTED,
  least_cost: RoutingStrategy.ROUTING_STRATEGY_LEAST_COST,
  best_quality: RoutingStrategy.ROUTING_STRATEGY_QUALITY,
  // The contract has no "score" value; it ranks mainly by quality.
  score: RoutingStrategy.ROUTING_STRATEGY_QUALITY,
  adaptive: RoutingStrategy.ROUTING_STRATEGY_ADAPTIVE,
};

/** Stable hub error codes and customer-safe texts per rejection category. */
export const CUSTOMER_TEXT: Record<RejectCategory, { code: string; message: string }> = {
  invalid_number: { code: 'INVALID_DESTINATION', message: 'The destination is not a valid phone number' },
  no_route: { code: 'NO_ROUTE', message: 'No route to this destination' },
  blocked: { code: 'ROUTE_BLOCKED', message: 'Traffic to this destination is blocked' },
  firewall_sender: { code: 'FIREWALL_SENDER', message: 'The sender id is not allowed for this destination' },
  firewall_content: { code: 'FIREWALL_CONTENT', message: 'The message content is not allowed' },
  firewall_destination: { code: 'FIREWALL_DESTINATION', message: 'The destination is blocked' },
  velocity: { code: 'RATE_LIMITED', message: 'Sending rate limit exceeded' },
  duplicate: { code: 'DUPLICATE', message: 'Duplicate message' },
  opted_out: { code: 'OPTED_OUT', message: 'The recipient opted out of messages from this account' },
  expired: { code: 'EXPIRED', message: 'The message expired before it could be delivered' },
};

export function numberInfo(d: Destination | undefined, prefixes: PrefixTable): NumberInfo | undefined {
  if (!d) return undefined;
  const m = prefixes.lookup(d.e164);
  const [mcc = '', mnc = ''] = d.mccMnc?.split('-') ?? [];
  return {
    countryCode: d.country === '001' ? '' : d.country,
    mcc,
    mnc,
    matchedPrefix: m?.prefix ?? '',
    ported: d.ported === true,
    source:
      d.ported === true
        ? NumberLookupSource.NUMBER_LOOKUP_SOURCE_PORTED_NUMBERS
        : d.mccMnc !== undefined
          ? NumberLookupSource.NUMBER_LOOKUP_SOURCE_PREFIX_TABLE
          : NumberLookupSource.NUMBER_LOOKUP_SOURCE_UNSPECIFIED,
  };
}

/**
 * The routed event. A sender rewrite is applied to the copy of the message (its source address is what
 * egress sends); every other field of the submitted event is unchanged.
 */
export function toRouted(m: SmsSubmitted, d: RoutedDecision, prefixes: PrefixTable, now: Date): SmsRouted {
  const message = d.senderRewrite
    ? {
        ...m,
        source: {
          address: d.senderRewrite.sourceAddr,
          ton: d.senderRewrite.sourceTon,
          npi: d.senderRewrite.sourceNpi,
        },
      }
    : m;
  const info = numberInfo(d.destination, prefixes);
  return {
    message,
    candidates: d.candidates.map((c) => ({
      connectorId: c.connectorId,
      ruleId: d.ruleId,
      reason: c.reason,
      ...(c.expectedCost
        ? {
            expectedCost: {
              currencyCode: c.expectedCost.currency,
              minorUnits: c.expectedCost.amountMinor,
              scale: 6,
            },
          }
        : {}),
      buyRateId: '',
    })),
    strategy: STRATEGY[d.strategy],
    ...(info ? { destinationInfo: info } : {}),
    routedAt: now,
    reroute: rerouteTerms(d.reroute, TRAFFIC[m.trafficType] ?? 'UNSPECIFIED', d.ruleId),
  };
}

export function customerError(d: RejectedDecision): ProtoCustomerError {
  const t = CUSTOMER_TEXT[d.category];
  return { code: t.code, receiptError: d.customerError.err, message: t.message };
}

export function toRejected(
  m: SmsSubmitted,
  d: RejectedDecision,
  prefixes: PrefixTable,
  now: Date,
): SmsRejected {
  const info = numberInfo(d.destination, prefixes);
  return {
    message: m,
    ruleId: d.ruleId,
    reason: d.reason,
    error: customerError(d),
    ...(info ? { destinationInfo: info } : {}),
    rejectedAt: now,
  };
}

/**
 * The encoding of an SmsRouted / SmsRejected whose `message` is exactly the consumed SmsSubmitted: its
 * bytes as received go in field 1 instead of encoding the decoded message again (the largest part of the
 * event), and the other fields are written by event-encoder.ts. Byte for byte what the codec would write.
 * `submittedBytes` must be the encoding of `value.message`; without them the whole value is encoded.
 */
export const encodeRouted = (value: SmsRouted, submittedBytes: Uint8Array | undefined): Buffer =>
  submittedBytes === undefined
    ? Buffer.from(SmsRouted.encode(value).finish())
    : encodeRoutedWith(value, submittedBytes);

export const encodeRejected = (value: SmsRejected, submittedBytes: Uint8Array | undefined): Buffer =>
  submittedBytes === undefined
    ? Buffer.from(SmsRejected.encode(value).finish())
    : encodeRejectedWith(value, submittedBytes);
