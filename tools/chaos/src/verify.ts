// The verdict of a chaos run, as pure functions: given what the SMPP client saw (one record per submit_sm),
// what the hub published (accepted dispatches and rated records per hub id) and the fault phases (with the
// simulator's duplicate counts), compute one row per fault and say whether it passed. No I/O here.

/** The text of the client's submit_sm number `seq` (unique to the run: a second copy is a duplicate). */
export function chaosText(runTag: string, seq: number): string {
  return `Chaos ${runTag} message ${seq}.`;
}

/** The client's sequence number in a text made by chaosText, or undefined for any other text. */
export function chaosSeq(text: string, runTag: string): number | undefined {
  const m = /^Chaos (\S+) message (\d+)\.$/.exec(text);
  return m && m[1] === runTag ? Number(m[2]) : undefined;
}

/** One submit_sm as the client saw it. */
export interface SubmitRecord {
  /** The client's sequence number (in the text); lets a submit without an answer be traced. */
  seq?: number;
  /** Wall-clock time (ms since the epoch) the submit_sm was written. */
  submitAt: number;
  /** command_status of submit_sm_resp (0 = accepted); -1 no response in time, -2 link closed, -3 other. */
  status: number;
  /** Hub message id from submit_sm_resp (lower case), when accepted. */
  hubId?: string;
  /** Final receipts (DELIVRD, UNDELIV, ...) the client received for this id; above 1 means duplicates. */
  finalReceipts: number;
}

/** One fault: from its kill to the next fault's kill (the first phase, "warm-up", has no kill). */
export interface Phase {
  fault: string;
  /** Wall-clock ms when the phase started (the kill). */
  startAt: number;
  /** Kill -> ready again, ms; null for the warm-up. */
  downtimeMs: number | null;
  /** Duplicate submit_sm the simulator counted while this phase lasted. */
  simDuplicates: number;
}

/** What the hub published about the run's messages, by hub id. */
export interface HubEvidence {
  /**
   * Sends the simulator accepted, per hub id and part ("<id>#<part>"): distinct supplier message ids of
   * sms.dispatched.v1 records with outcome ACCEPTED (a re-published record of the same send counts once).
   */
  acceptedDispatches: ReadonlyMap<string, number>;
  /** billing.rated.v1 records per hub id. */
  rated: ReadonlyMap<string, number>;
  /**
   * Every rated record beyond a message's first, with the time Kafka stamped it: an extra record counts
   * against the phase in which it was published (the fault that caused it), not the one the message was
   * submitted in. Without it, extras count against the submit phase.
   */
  ratedExtraAt?: readonly { hubId: string; at: number }[];
  /** Kafka time of each message's first ACCEPTED dispatch (ms). */
  acceptedDispatchAt?: ReadonlyMap<string, number>;
  /**
   * Hub ids whose part was written to the SMSC when egress was killed before reading the submit_sm_resp:
   * a final TIMEOUT dispatch with no supplier id ("not resent"). The send happened (at most once) and the
   * customer gets a final UNKNOWN receipt, so it counts as dispatched, in its own column.
   */
  unknownOutcome?: ReadonlySet<string>;
  /**
   * Distinct hub ids on sms.submitted.v1 per client sequence number (from the text). More than one for a
   * submit_sm is a second message made from one submit; for a submit without an answer (timeout, link
   * closed) it says whether the hub took it after all.
   */
  hubIdsBySeq?: ReadonlyMap<number, readonly string[]>;
  /** Kafka time (ms) and connector of each part's first ACCEPTED dispatch: the supplier's TPS. */
  dispatchTimes?: readonly { connectorId: string; at: number }[];
  /**
   * The simulator's accepted submit_sm as sampled (one entry per submit_sm, at the sample's time, sorted):
   * the supplier's TPS as the wire saw it, over every simulated connector. Preferred to dispatchTimes,
   * whose Kafka timestamps a producer held up by a broker fault can bunch.
   */
  simAcceptTimes?: readonly number[];
}

/** Limits the run checks the measured rates against (null/undefined: measured, not checked). */
export interface RateLimits {
  /** The customer's tps_limit (accepted submit_sm per second, across every ingress replica). */
  customerTps?: number | null;
  /** Each supplier connector's max_submit_rate (across every egress replica). */
  supplierTps?: number | null;
  /** Window the peak rate is measured over (default 10 s, stepped by 1 s). */
  windowMs?: number;
  /** End of the last phase (when submitting stopped); default the last submit. */
  endAt?: number;
  /** Tolerance above a limit before it fails (default 0.10: 10 %). */
  tolerance?: number;
}

/** A rate measured in one phase. */
export interface RateFigure {
  /** Highest rate over any window of the phase (per second). */
  peak: number;
  /** Count over the phase's duration (per second). */
  mean: number;
  limit: number | null;
  pass: boolean;
}

export interface FaultRow {
  fault: string;
  downtimeMs: number | null;
  /** submit_sm sent in the phase. */
  submitted: number;
  /** ... answered ESME_ROK with a hub id: the hub's responsibility from then on. */
  accepted: number;
  /** ... answered with an error command_status: must never be sent. */
  refused: number;
  /** ... of which the hub sent anyway (an error must mean "never sent"). */
  refusedButSent: number;
  /**
   * ... not answered at all (the client's response timeout, or the link closed under it): the hub may or
   * may not have taken it. It must be sent once or not at all, never twice.
   */
  unanswered: number;
  /** ... of which sent once (the hub took it after the client gave up). */
  unansweredSent: number;
  /** Accepted messages with at least one accepted dispatch to the simulator (or an unknown outcome). */
  dispatched: number;
  /** ... of which the outcome is unknown: sent when egress was killed, not resent, receipted UNKNOWN. */
  unknownOutcome: number;
  /** Accepted messages whose final receipt reached the client. */
  finalReceipts: number;
  /** Final receipts received more than once (reported, not a failure: SMPP receipts are at least once). */
  duplicateReceipts: number;
  /** Accepted messages with exactly one billing.rated.v1 record. */
  ratedOnce: number;
  /** Accepted messages without any rated record. */
  ratedMissing: number;
  /** Rated records beyond the first for a message, published during the phase. */
  ratedExtra: number;
  /** Duplicate submit_sm counted by the simulator during the phase. */
  duplicateSendsSim: number;
  /** Accepted sends beyond the first for one part (another supplier id), from sms.dispatched.v1. */
  duplicateSendsHub: number;
  /** Accepted messages without a final receipt at the client. */
  lost: number;
  /**
   * Of those, the ones the simulator accepted just before it was killed (from SIM_CRASH_MARGIN_MS before
   * its kill until it was back): their receipts died with it (it keeps them in memory; a real SMSC does
   * not), so the hub can only report them when their validity expires. Reported, not a failure.
   */
  lostBySimulator: number;
  /** Accepted submit_sm per second (the customer's TPS), when measured. */
  customerTps: RateFigure | null;
  /** Accepted sends per second of the busiest connector (the supplier's TPS), when measured. */
  supplierTps: RateFigure | null;
  pass: boolean;
  /** Why it failed, in words. */
  problems: string[];
  /** Up to MAX_SAMPLES failed messages of the phase: hub id and what went wrong. */
  samples: { hubId: string; why: string }[];
}

export const MAX_SAMPLES = 10;
export const SIM_CRASH_MARGIN_MS = 2000;

export interface Verdict {
  rows: FaultRow[];
  total: FaultRow;
  pass: boolean;
}

/** Index of the phase holding time `t`: the last phase that started at or before it (0 for earlier). */
export function phaseIndex(phases: readonly Phase[], t: number): number {
  let lo = 0;
  let hi = phases.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((phases[mid] as Phase).startAt <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function emptyRow(fault: string, downtimeMs: number | null): FaultRow {
  return {
    fault,
    downtimeMs,
    submitted: 0,
    accepted: 0,
    refused: 0,
    refusedButSent: 0,
    unanswered: 0,
    unansweredSent: 0,
    dispatched: 0,
    unknownOutcome: 0,
    finalReceipts: 0,
    duplicateReceipts: 0,
    ratedOnce: 0,
    ratedMissing: 0,
    ratedExtra: 0,
    duplicateSendsSim: 0,
    duplicateSendsHub: 0,
    lost: 0,
    lostBySimulator: 0,
    customerTps: null,
    supplierTps: null,
    pass: false,
    problems: [],
    samples: [],
  };
}

/** Accepted dispatches beyond the first, per hub id (summed over its parts). */
function extraDispatchesById(acceptedDispatches: ReadonlyMap<string, number>): Map<string, number> {
  const extra = new Map<string, number>();
  for (const [key, n] of acceptedDispatches) {
    if (n <= 1) continue;
    const id = key.slice(0, key.lastIndexOf('#'));
    extra.set(id, (extra.get(id) ?? 0) + n - 1);
  }
  return extra;
}

function dispatchedIds(acceptedDispatches: ReadonlyMap<string, number>): Set<string> {
  const ids = new Set<string>();
  for (const [key, n] of acceptedDispatches) if (n > 0) ids.add(key.slice(0, key.lastIndexOf('#')));
  return ids;
}

function judge(row: FaultRow): void {
  const p = row.problems;
  if (row.accepted === 0) p.push('no submit_sm accepted in this phase');
  if (row.lost > row.lostBySimulator)
    p.push(`${row.lost - row.lostBySimulator} accepted without a final receipt`);
  if (row.dispatched < row.accepted) p.push(`${row.accepted - row.dispatched} accepted but never dispatched`);
  if (row.ratedMissing > 0) p.push(`${row.ratedMissing} accepted but not rated`);
  if (row.ratedExtra > 0) p.push(`${row.ratedExtra} extra rated records`);
  if (row.duplicateSendsSim > 0) p.push(`${row.duplicateSendsSim} duplicate submit_sm at the simulator`);
  if (row.duplicateSendsHub > 0)
    p.push(
      `${row.duplicateSendsHub} extra sends (a part under another supplier id, or one submit_sm made two messages)`,
    );
  if (row.refusedButSent > 0) p.push(`${row.refusedButSent} answered with an error but sent anyway`);
  const rate = (name: string, r: RateFigure | null): void => {
    if (r && !r.pass) p.push(`${name} ${r.peak.toFixed(1)}/s above its limit ${r.limit}/s`);
  };
  rate('customer TPS', row.customerTps);
  rate('supplier TPS', row.supplierTps);
  row.pass = p.length === 0;
}

/**
 * One row per phase (messages belong to the phase in which they were submitted) and a total row. A phase
 * passes when it accepted traffic and every accepted message was dispatched, got its final receipt and
 * exactly one rated record, with no duplicate send.
 */
export function verify(
  records: readonly SubmitRecord[],
  phases: readonly Phase[],
  hub: HubEvidence,
  limits: RateLimits = {},
): Verdict {
  if (phases.length === 0) throw new Error('verify needs at least one phase');
  const rows = phases.map((ph) => emptyRow(ph.fault, ph.downtimeMs));
  const total = emptyRow('all', null);
  const dispatched = dispatchedIds(hub.acceptedDispatches);
  const extraDispatches = extraDispatchesById(hub.acceptedDispatches);
  const simCrashes = phases
    .filter((ph) => ph.fault === 'smsc-simulator')
    .map((ph) => ({ from: ph.startAt - SIM_CRASH_MARGIN_MS, to: ph.startAt + (ph.downtimeMs ?? 0) }));
  const sentBeforeSimCrash = (id: string): boolean => {
    const at = hub.acceptedDispatchAt?.get(id);
    return at !== undefined && simCrashes.some((c) => at >= c.from && at <= c.to);
  };
  phases.forEach((ph, i) => ((rows[i] as FaultRow).duplicateSendsSim = ph.simDuplicates));

  const sent = (id: string): boolean => dispatched.has(id) || (hub.unknownOutcome?.has(id) ?? false);
  for (const r of records) {
    const row = rows[phaseIndex(phases, r.submitAt)] as FaultRow;
    // Every message the hub made of this submit_sm (its text), beyond the id the client was given.
    const ids = r.seq !== undefined ? (hub.hubIdsBySeq?.get(r.seq) ?? []) : [];
    const others = ids.filter((id) => id !== r.hubId);
    const othersSent = others.filter(sent);
    const othersExtra = others.reduce((n, id) => n + (extraDispatches.get(id) ?? 0), 0);
    for (const x of [row, total]) {
      x.submitted++;
      if (r.status !== 0 || !r.hubId) {
        // No hub id given: the hub may send it at most once, and never after an error answer.
        const why: string[] = [];
        if (r.status > 0) {
          x.refused++;
          if (othersSent.length > 0) {
            x.refusedButSent++;
            why.push(`answered ${r.status} but sent`);
          }
        } else {
          x.unanswered++;
          if (othersSent.length > 0) x.unansweredSent++;
        }
        const extra = Math.max(0, othersSent.length - 1) + othersExtra;
        x.duplicateSendsHub += extra;
        if (extra > 0) why.push(`sent ${extra + 1} times without a hub id given`);
        if (why.length > 0 && x.samples.length < MAX_SAMPLES)
          x.samples.push({ hubId: others[0] ?? `seq ${r.seq}`, why: why.join(', ') });
        continue;
      }
      x.accepted++;
      const why: string[] = [];
      if (othersSent.length > 0 || othersExtra > 0) {
        x.duplicateSendsHub += othersSent.length + othersExtra;
        why.push(`also sent as ${othersSent.join(',')}`);
      }
      if (dispatched.has(r.hubId)) x.dispatched++;
      else if (hub.unknownOutcome?.has(r.hubId)) {
        x.dispatched++;
        x.unknownOutcome++;
      } else why.push('never dispatched');
      const extra = extraDispatches.get(r.hubId) ?? 0;
      x.duplicateSendsHub += extra;
      if (extra > 0) why.push(`sent ${extra + 1} times`);
      if (r.finalReceipts > 0) x.finalReceipts++;
      else {
        x.lost++;
        if (sentBeforeSimCrash(r.hubId)) {
          x.lostBySimulator++;
          why.push('no final receipt: the simulator died with it');
        } else why.push('no final receipt');
      }
      x.duplicateReceipts += Math.max(0, r.finalReceipts - 1);
      const rated = hub.rated.get(r.hubId) ?? 0;
      if (rated === 0) {
        x.ratedMissing++;
        why.push('not rated');
      } else {
        if (rated === 1) x.ratedOnce++;
        else if (!hub.ratedExtraAt) {
          why.push(`rated ${rated} times`);
          x.ratedExtra += rated - 1;
        }
      }
      if (why.length > 0 && x.samples.length < MAX_SAMPLES)
        x.samples.push({ hubId: r.hubId, why: why.join(', ') });
    }
  }
  if (hub.ratedExtraAt) {
    const ours = new Set(records.map((r) => r.hubId));
    for (const e of hub.ratedExtraAt) {
      if (!ours.has(e.hubId)) continue;
      const row = rows[phaseIndex(phases, e.at)] as FaultRow;
      for (const x of [row, total]) {
        x.ratedExtra++;
        if (x.samples.length < MAX_SAMPLES)
          x.samples.push({ hubId: e.hubId, why: 'rated again in this phase' });
      }
    }
  }
  total.duplicateSendsSim = phases.reduce((s, ph) => s + ph.simDuplicates, 0);
  measureRates(records, phases, hub, limits, rows, total);
  rows.forEach(judge);
  judge(total);
  return { rows, total, pass: total.pass && rows.every((r) => r.pass) };
}

/**
 * Peak and mean rate of `times` (sorted, ms) within [from, to): the peak over windows of `windowMs`
 * stepped by 1 s (the whole span when it is shorter than one window).
 */
export function rateIn(
  times: readonly number[],
  from: number,
  to: number,
  windowMs: number,
): { peak: number; mean: number } {
  const lower = (t: number): number => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((times[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const span = to - from;
  if (span <= 0) return { peak: 0, mean: 0 };
  const count = (a: number, b: number): number => lower(b) - lower(a);
  const mean = (count(from, to) * 1000) / span;
  if (span <= windowMs) return { peak: mean, mean };
  let peak = 0;
  for (let s = from; s + windowMs <= to; s += 1000)
    peak = Math.max(peak, (count(s, s + windowMs) * 1000) / windowMs);
  return { peak, mean };
}

function figure(
  m: { peak: number; mean: number },
  limit: number | null | undefined,
  tolerance: number,
): RateFigure {
  const l = limit ?? null;
  return { ...m, limit: l, pass: l === null || m.peak <= l * (1 + tolerance) };
}

/** The customer's and the busiest supplier connector's rate per phase, against their limits. */
function measureRates(
  records: readonly SubmitRecord[],
  phases: readonly Phase[],
  hub: HubEvidence,
  limits: RateLimits,
  rows: FaultRow[],
  total: FaultRow,
): void {
  const windowMs = limits.windowMs ?? 10_000;
  const tolerance = limits.tolerance ?? 0.1;
  const accepted = records
    .filter((r) => r.status === 0 && r.hubId)
    .map((r) => r.submitAt)
    .sort((a, b) => a - b);
  const byConnector = new Map<string, number[]>();
  for (const d of hub.dispatchTimes ?? []) {
    const list = byConnector.get(d.connectorId) ?? [];
    list.push(d.at);
    byConnector.set(d.connectorId, list);
  }
  for (const list of byConnector.values()) list.sort((a, b) => a - b);
  const lastSubmit = records.reduce((m, r) => Math.max(m, r.submitAt), 0);
  const endAt = limits.endAt ?? lastSubmit + 1;
  const spans = phases.map((ph, i) => ({
    from: ph.startAt,
    to: i + 1 < phases.length ? (phases[i + 1] as Phase).startAt : endAt,
  }));
  const measure = (from: number, to: number, row: FaultRow): void => {
    row.customerTps = figure(rateIn(accepted, from, to, windowMs), limits.customerTps, tolerance);
    if (hub.simAcceptTimes) {
      row.supplierTps = figure(rateIn(hub.simAcceptTimes, from, to, windowMs), limits.supplierTps, tolerance);
      return;
    }
    if (byConnector.size === 0) return;
    let busiest = { peak: 0, mean: 0 };
    for (const list of byConnector.values()) {
      const m = rateIn(list, from, to, windowMs);
      if (m.peak > busiest.peak) busiest = m;
    }
    row.supplierTps = figure(busiest, limits.supplierTps, tolerance);
  };
  spans.forEach((sp, i) => measure(sp.from, sp.to, rows[i] as FaultRow));
  measure(spans[0]?.from ?? 0, endAt, total);
}

function fmtMs(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

/** The verdict as a markdown table (also readable as plain text). */
export function verdictTable(v: Verdict): string {
  const head = [
    'fault',
    'downtime',
    'submits accepted',
    'refused (but sent)',
    'unanswered (sent)',
    'dispatched',
    'final receipts to client',
    'dup receipts',
    'rated once',
    'rated missing/extra',
    'dup sends sim/hub',
    'lost (by sim crash)',
    'customer TPS peak/mean/limit',
    'supplier TPS peak/mean/limit',
    'result',
  ];
  const rate = (f: RateFigure | null): string =>
    f === null ? '-' : `${f.peak.toFixed(0)}/${f.mean.toFixed(0)}/${f.limit ?? '-'}${f.pass ? '' : ' FAIL'}`;
  const line = (r: FaultRow): string[] => [
    r.fault,
    fmtMs(r.downtimeMs),
    String(r.accepted),
    `${r.refused} (${r.refusedButSent})`,
    `${r.unanswered} (${r.unansweredSent})`,
    r.unknownOutcome > 0 ? `${r.dispatched} (${r.unknownOutcome} unknown)` : String(r.dispatched),
    String(r.finalReceipts),
    String(r.duplicateReceipts),
    String(r.ratedOnce),
    `${r.ratedMissing}/${r.ratedExtra}`,
    `${r.duplicateSendsSim}/${r.duplicateSendsHub}`,
    `${r.lost} (${r.lostBySimulator})`,
    rate(r.customerTps),
    rate(r.supplierTps),
    r.pass ? 'PASS' : 'FAIL',
  ];
  const body = [...v.rows, v.total].map(line);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const fmt = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [fmt(head), sep, ...body.map(fmt)].join('\n');
}
