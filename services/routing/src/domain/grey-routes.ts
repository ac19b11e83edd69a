// Grey-route detection (issue 21 item 3; docs/routing.md "Grey routes"): pure verdicts from probe outcomes
// and receipt latencies, and the demotion of suspected connectors in a routing decision.
//
// A probe is a message the hub sends itself, through one connector, to an operator's probe number whose
// handset answers with an MO carrying the probe's token. Once a probe is past its deadline:
//   - DELIVRD receipt and an MO within `lateMs` of the receipt (or before it)  -> confirmed
//   - DELIVRD receipt and an MO later than `lateMs` after the receipt          -> late
//   - DELIVRD receipt and no MO at all                                          -> unconfirmed (a fake receipt)
//   - a failure receipt (UNDELIV, REJECTD, EXPIRED ...)                         -> failed (honest: no evidence)
//   - no receipt and no MO                                                      -> lost (no evidence)
//   - no receipt but an MO                                                      -> confirmed (delivered)
// Before its deadline a probe with a DELIVRD receipt and no MO is still pending: a late network's MO may
// come. A connector is suspected of fake receipts when, among its last `window` decisive probes
// (confirmed, late, unconfirmed), at least `minBad` are unconfirmed and they are at least `badShare` of
// them; of late delivery likewise with late ones. It is cleared when its `clearAfter` newest decisive
// probes are all confirmed.

export type ProbeOutcome = 'pending' | 'confirmed' | 'late' | 'unconfirmed' | 'failed' | 'lost';

export interface ProbeRecord {
  messageId: string;
  connectorId: string;
  sentAt: number;
  /** Final receipt status (DELIVERED, UNDELIVERABLE ...) and when dlr published it; undefined: none yet. */
  receiptStatus?: string | undefined;
  receiptAt?: number | undefined;
  /** When the handset's MO confirmation arrived; undefined: not (yet). */
  confirmedAt?: number | undefined;
}

export interface ProbePolicy {
  /** A DELIVRD probe with no MO this long after it was sent is a fake receipt. */
  deadlineMs: number;
  /** An MO later than this after the DELIVRD receipt makes the probe late. */
  lateMs: number;
  /** Decisive probes looked at per connector (newest first). */
  window: number;
  /** Bad probes needed, and their least share of the decisive ones. */
  minBad: number;
  badShare: number;
  /** Newest decisive probes that must all be confirmed to clear a suspicion. */
  clearAfter: number;
}

export const DEFAULT_PROBE_POLICY: ProbePolicy = Object.freeze({
  deadlineMs: 600_000,
  lateMs: 60_000,
  window: 10,
  minBad: 3,
  badShare: 0.5,
  clearAfter: 2,
});

export function probeOutcome(p: ProbeRecord, now: number, policy: ProbePolicy): ProbeOutcome {
  const delivered = p.receiptStatus === 'DELIVERED';
  if (p.receiptStatus !== undefined && !delivered) return 'failed';
  if (p.confirmedAt !== undefined) {
    if (delivered && p.receiptAt !== undefined && p.confirmedAt - p.receiptAt > policy.lateMs) return 'late';
    if (!delivered && now - p.sentAt < policy.deadlineMs) return 'pending'; // the receipt may still come
    return 'confirmed';
  }
  if (now - p.sentAt < policy.deadlineMs) return 'pending';
  return delivered ? 'unconfirmed' : 'lost';
}

export interface ProbeTally {
  evaluated: number;
  confirmed: number;
  unconfirmed: number;
  late: number;
  failed: number;
  /** Unconfirmed or late probes, newest first (at most 10). */
  messageIds: string[];
}

export type SuspicionReasonName = 'fake_receipts' | 'late_delivery' | 'implausible_latency';

export interface ProbeVerdict {
  tally: ProbeTally;
  /** Reasons the probes give; empty: none. */
  reasons: SuspicionReasonName[];
  /** The newest `clearAfter` decisive probes are all confirmed. */
  passing: boolean;
}

/** The verdict of one connector's probes (any order; only past-deadline decisive ones count). */
export function probeVerdict(probes: readonly ProbeRecord[], now: number, policy: ProbePolicy): ProbeVerdict {
  const newestFirst = [...probes].sort((a, b) => b.sentAt - a.sentAt);
  const tally: ProbeTally = {
    evaluated: 0,
    confirmed: 0,
    unconfirmed: 0,
    late: 0,
    failed: 0,
    messageIds: [],
  };
  const decisive: ProbeOutcome[] = [];
  for (const p of newestFirst) {
    const o = probeOutcome(p, now, policy);
    if (o === 'pending' || o === 'lost') continue;
    if (o === 'failed') {
      if (decisive.length < policy.window) tally.failed++;
      continue;
    }
    if (decisive.length >= policy.window) break;
    decisive.push(o);
    tally.evaluated++;
    tally[o]++;
    if ((o === 'unconfirmed' || o === 'late') && tally.messageIds.length < 10)
      tally.messageIds.push(p.messageId);
  }
  tally.evaluated += tally.failed;
  const n = decisive.length;
  const reasons: SuspicionReasonName[] = [];
  if (n > 0 && tally.unconfirmed >= policy.minBad && tally.unconfirmed / n >= policy.badShare)
    reasons.push('fake_receipts');
  if (n > 0 && tally.late >= policy.minBad && tally.late / n >= policy.badShare)
    reasons.push('late_delivery');
  const passing =
    n >= policy.clearAfter && decisive.slice(0, policy.clearAfter).every((o) => o === 'confirmed');
  return { tally, reasons, passing };
}

// ------------------------------------------------------------------ receipt latency statistics

export interface LatencyPolicy {
  /** Receipts needed before the signal speaks. */
  minSamples: number;
  /** Share of DELIVRD receipts within `instantMs` of the submit that is implausible. */
  instantShare: number;
  instantMs: number;
  /** Coefficient of variation below which latencies are implausibly uniform. */
  minCv: number;
}

export const DEFAULT_LATENCY_POLICY: LatencyPolicy = Object.freeze({
  minSamples: 100,
  instantShare: 0.9,
  instantMs: 1000,
  minCv: 0.05,
});

export interface LatencyStats {
  samples: number;
  instantShare: number;
  cv: number;
  medianMs: number;
}

/** Statistics of submit -> DELIVRD receipt latencies (ms). */
export function latencyStats(latencies: readonly number[], instantMs: number): LatencyStats {
  const n = latencies.length;
  if (n === 0) return { samples: 0, instantShare: 0, cv: 0, medianMs: 0 };
  let sum = 0;
  let instant = 0;
  for (const l of latencies) {
    sum += l;
    if (l <= instantMs) instant++;
  }
  const mean = sum / n;
  let sq = 0;
  for (const l of latencies) sq += (l - mean) ** 2;
  const sd = Math.sqrt(sq / n);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    samples: n,
    instantShare: instant / n,
    // All-zero latencies are as implausible as it gets: cv 0.
    cv: mean > 0 ? sd / mean : 0,
    medianMs: Math.round(sorted[Math.floor((n - 1) / 2)] as number),
  };
}

/** Whether the latencies are implausibly instant or uniform for real handsets. */
export function implausibleLatency(s: LatencyStats, policy: LatencyPolicy): boolean {
  if (s.samples < policy.minSamples) return false;
  return s.instantShare >= policy.instantShare || s.cv < policy.minCv;
}

/** The last `size` DELIVRD latencies of one connector (a ring), with the time of the newest. */
export class LatencyWindow {
  private readonly ring: number[] = [];
  private head = 0;
  constructor(private readonly size = 500) {}
  add(latencyMs: number): void {
    if (this.ring.length < this.size) this.ring.push(latencyMs);
    else {
      this.ring[this.head] = latencyMs;
      this.head = (this.head + 1) % this.size;
    }
  }
  clear(): void {
    this.ring.length = 0;
    this.head = 0;
  }
  values(): readonly number[] {
    return this.ring;
  }
}

// ------------------------------------------------------------------ demotion

export interface Demotable {
  connectorId: string;
  reason: string;
}

/**
 * Suspected connectors go to the end of the candidates (kept in their relative order), their reason
 * saying so: never chosen while another candidate is eligible, still a last resort. Unchanged (same array)
 * when none is suspected.
 */
export function demoteSuspected<C extends Demotable>(
  candidates: C[],
  suspected: (connectorId: string) => string | undefined,
): C[] {
  const kept: C[] = [];
  const demoted: C[] = [];
  for (const c of candidates) {
    const why = suspected(c.connectorId);
    if (why === undefined) kept.push(c);
    else demoted.push({ ...c, reason: `${c.reason}; demoted: suspected grey route (${why})` });
  }
  return demoted.length === 0 ? candidates : [...kept, ...demoted];
}

/** A rule's demote_suspected setting resolved: unset = on for OTP traffic only. */
export function demotes(setting: boolean | undefined, trafficType: string): boolean {
  return setting ?? trafficType === 'OTP';
}
