// Plain input/output types of the routing domain. They mirror, but do not import, the protobuf contracts
// (smshub.sms.v1.SmsSubmitted / SmsRouted / SmsRejected): a thin mapper in the service adapts them.

/** SMPP type of number (SMPP 3.4 5.2.5). */
export const Ton = {
  UNKNOWN: 0,
  INTERNATIONAL: 1,
  NATIONAL: 2,
  NETWORK_SPECIFIC: 3,
  SUBSCRIBER: 4,
  ALPHANUMERIC: 5,
  ABBREVIATED: 6,
} as const;

/** SMPP numbering plan indicator (SMPP 3.4 5.2.6). */
export const Npi = { UNKNOWN: 0, ISDN: 1 } as const;

export type TrafficType = 'OTP' | 'TRANSACTIONAL' | 'MARKETING' | 'UNSPECIFIED';

/**
 * Money as an exact integer. `amountMinor` is in micro-units (scale 6, the hub-wide convention of
 * smshub.common.v1.Money): EUR 0.00345 is `{ amountMinor: 3450n, currency: 'EUR' }`. Never a float.
 */
export interface Money {
  amountMinor: bigint;
  currency: string;
}

/** Scale of `Money.amountMinor` (10^6 units per currency unit). */
export const MONEY_SCALE = 6;

export interface RoutingRequest {
  hubMessageId: string;
  accountId: string;
  accountGroup?: string;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  destinationAddr: string;
  destTon: number;
  destNpi: number;
  serviceType: string;
  trafficType: TrafficType;
  /** Decoded text, used by content rules; null for binary messages (content rules are skipped). */
  text: string | null;
  segments: number;
  receivedAt: Date;
}

export interface Destination {
  /** "+" followed by digits. */
  e164: string;
  /** ISO 3166-1 alpha-2 country, or "001" for non-geographic numbers. */
  country: string;
  /** "MCC-MNC" e.g. "234-15", from the portability lookup or else the prefix table. */
  mccMnc?: string;
  /** True when a portability/HLR lookup said the number left its original network. */
  ported?: boolean;
}

export type StrategyKind = 'priority' | 'weighted' | 'least_cost' | 'best_quality' | 'score' | 'adaptive';

export interface RouteCandidate {
  connectorId: string;
  /** Why this connector is at this position ("priority 2", "cheapest 3450 EUR micro", "unhealthy"). */
  reason: string;
  /** Expected buy cost per segment, converted to the strategy currency when one is set. */
  expectedCost?: Money;
  /** Strategy score (least cost: none; quality/score: higher is better). */
  score?: number;
}

export type RejectCategory =
  | 'invalid_number'
  | 'blocked'
  | 'firewall_sender'
  | 'firewall_content'
  | 'firewall_destination'
  | 'velocity'
  | 'duplicate'
  | 'no_route'
  | 'opted_out'
  | 'expired';

export interface CustomerError {
  stat: 'REJECTD' | 'UNDELIV' | 'EXPIRED';
  /** 3-digit receipt `err:` code; see CUSTOMER_ERRORS in customer-error.ts. */
  err: number;
}

export interface RoutedDecision {
  kind: 'routed';
  destination: Destination;
  /** In the order egress should try them; never empty. */
  candidates: RouteCandidate[];
  strategy: StrategyKind;
  /** New source address when the rule rewrites the sender for this destination. */
  senderRewrite?: { sourceAddr: string; sourceTon: number; sourceNpi: number };
  ruleId: string;
  /** The rule's re-route policy as stored (mapping resolves the defaults with the traffic type). */
  reroute?: import('./reroute.js').ReroutePolicy;
}

export interface RejectedDecision {
  kind: 'rejected';
  /** Id of the firewall/routing rule that rejected; "" when none matched (invalid number, no rule). */
  ruleId: string;
  /** Internal reason for operators; not shown to customers. */
  reason: string;
  customerError: CustomerError;
  category: RejectCategory;
  /** Set when the number was normalised before the rejection. */
  destination?: Destination;
}

export type RoutingDecision = RoutedDecision | RejectedDecision;

/** Milliseconds since the epoch; every time-dependent component takes one of these instead of Date.now. */
export type Clock = () => number;
