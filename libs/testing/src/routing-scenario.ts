// For the routing benchmarks. Issue 21's routing scenario and its scoring (pure): shared by the whole-hub benchmark
// (tools/bench/src/routing-hub.ts, `npm run bench -- routing-sim`) and the model run (services/routing/bench/routing-sim.ts,
// `npm run bench -- routing-model`).
//
// Four suppliers to the same destination network, at scale 1 (minutes of real time; `scale` shrinks every
// time of the scenario alike):
//   A  EUR 0.0010  97 % delivered, receipts in 1-3 s; 60 % from minute 2, recovers at minute 6
//   B  EUR 0.0015  98 %, 1.5-4.5 s; receipts take 10-20 s from minute 4 (p95 beyond the OTP level)
//   C  EUR 0.0025  99 %, 1-3 s, steady
//   F  EUR 0.0006  a fake-DLR grey route from minute 7: DELIVRD in 0.5-1.5 s, delivers nothing
// OTP service level: delivery ratio >= 95 %, p95 submit -> delivery <= 10 s.

export const MIN = 60_000;
export const IDS = ['A', 'B', 'C', 'F'] as const;
export type Id = (typeof IDS)[number];
/** Buy price per message, micro-EUR. */
export const PRICE: Readonly<Record<Id, number>> = { A: 1000, B: 1500, C: 2500, F: 600 };
export const LEVEL = { ratio: 0.95, p95Ms: 10_000 } as const;
/** Scenario length in minutes at scale 1. */
export const SCENARIO_MINUTES = 12;
export const FAKE_APPEARS_MIN = 7;

export interface DelayRange {
  min: number;
  max: number;
}

/** What a network really does at time t (ms from the start) of a scenario run at `scale`. */
export interface NetworkState {
  /** Usable by the hub (F: only from minute 7). */
  available: boolean;
  /** Share of messages really delivered. */
  trueRatio: number;
  /** Share of messages the supplier reports DELIVRD. */
  reportedRatio: number;
  /** Receipt delay range (ms, unscaled: latencies are real). */
  delayMs: DelayRange;
  /** DELIVRD receipts without delivery. */
  fake: boolean;
}

export function networkState(id: Id, t: number, scale = 1): NetworkState {
  const m = t / (MIN * scale);
  switch (id) {
    case 'A': {
      const r = m >= 2 && m < 6 ? 0.6 : 0.97;
      return {
        available: true,
        trueRatio: r,
        reportedRatio: r,
        delayMs: { min: 1000, max: 3000 },
        fake: false,
      };
    }
    case 'B':
      return {
        available: true,
        trueRatio: 0.98,
        reportedRatio: 0.98,
        delayMs: m >= 4 ? { min: 10_000, max: 20_000 } : { min: 1500, max: 4500 },
        fake: false,
      };
    case 'C':
      return {
        available: true,
        trueRatio: 0.99,
        reportedRatio: 0.99,
        delayMs: { min: 1000, max: 3000 },
        fake: false,
      };
    case 'F':
      return {
        available: m >= FAKE_APPEARS_MIN,
        trueRatio: 0,
        reportedRatio: 1,
        delayMs: { min: 500, max: 1500 },
        fake: true,
      };
  }
}

/** The simulator behaviour (receipts.mix in percent, delayMs) of a network state. */
export function receiptsOf(s: NetworkState): {
  mix: { DELIVRD: number; UNDELIV: number };
  delayMs: DelayRange;
} {
  const delivrd = Math.round(s.reportedRatio * 100);
  return { mix: { DELIVRD: delivrd, UNDELIV: 100 - delivrd }, delayMs: s.delayMs };
}

/** A change the scenario makes to one network, at `atMs` from the start. */
export interface ScenarioStep {
  atMs: number;
  id: Id;
  /** 'behaviour': the simulator's receipts change (control port); 'appear': the hub's connectors to it are enabled. */
  kind: 'behaviour' | 'appear';
  state: NetworkState;
  what: string;
}

/** The scripted changes, in time order (the initial behaviour of every network is at 0). */
export function scenarioSteps(scale = 1): ScenarioStep[] {
  const at = (min: number) => Math.round(min * MIN * scale);
  const step = (
    min: number,
    id: Id,
    what: string,
    kind: ScenarioStep['kind'] = 'behaviour',
  ): ScenarioStep => ({
    atMs: at(min),
    id,
    kind,
    state: networkState(id, at(min), scale),
    what,
  });
  return [
    step(2, 'A', 'A degrades to 60 % delivered'),
    step(4, 'B', "B's receipts take 10-20 s"),
    step(6, 'A', 'A recovers (97 %)'),
    step(FAKE_APPEARS_MIN, 'F', 'F, a fake-DLR grey route, appears', 'appear'),
  ];
}

/** The oracle's pick at t: the most truly-delivered per EUR among networks meeting the level (else C). */
export function oracleChoice(t: number, scale = 1): Id {
  let best: Id = 'C';
  let bestValue = -1;
  for (const id of IDS) {
    const s = networkState(id, t, scale);
    // p95 of a uniform delay range is near its max.
    if (!s.available || s.trueRatio < LEVEL.ratio || s.delayMs.max > LEVEL.p95Ms) continue;
    const v = s.trueRatio / PRICE[id];
    if (v > bestValue) {
      bestValue = v;
      best = id;
    }
  }
  return best;
}

/** One attempt of a message on a network (as the simulator saw it). */
export interface Attempt {
  id: Id;
  /** ms from the start when the simulator accepted it. */
  at: number;
  /** Receipt the simulator sent (undefined: none yet). */
  stat?: string;
  /** ms from the start when that receipt was sent (the moment of delivery for an honest network). */
  receiptAt?: number;
  /** Really delivered (the simulator's truth, not its receipt). */
  truly?: boolean;
}

/** One message a strategy's customer submitted. */
export interface SentMessage {
  /** ms from the start when the customer's submit_sm was accepted. */
  at: number;
  attempts: Attempt[];
  /** Final receipt status the customer got from the hub (undefined: none). */
  reported?: string;
}

export interface StrategyRow {
  name: string;
  accepted: number;
  trulyDelivered: number;
  reportedDelivered: number;
  costMicro: number;
  deliveryRatio: number;
  perEur: number;
  p95Ms: number;
  meets: boolean;
  /** Share of messages on the fake route from its appearance on. */
  fakeAfterAppear: number;
  /** ... and from its detection on (undefined: not detected). */
  fakeAfterDetect: number | undefined;
  /** Oracle's delivered per EUR over the same message times. */
  oraclePerEur: number;
  regret: number;
  /** Per share bucket, messages per network (by attempt time). */
  shares: Array<Record<Id, number>>;
}

export function p95(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] as number;
}

/** Width of a traffic-share bucket: 30 s at scale 1. */
export const bucketMs = (scale = 1): number => Math.max(1000, Math.round(30_000 * scale));

/** The row of one strategy from what its messages did. `detectedAt`: when the hub flagged F (ms). */
export function summarise(
  name: string,
  messages: readonly SentMessage[],
  opts: { scale?: number; durationMs: number; appearAt?: number; detectedAt?: number | undefined },
): StrategyRow {
  const scale = opts.scale ?? 1;
  // When the fake route really became usable (the hub's connectors enabled), else the scenario's minute 7.
  const appearAt = opts.appearAt ?? FAKE_APPEARS_MIN * MIN * scale;
  const width = bucketMs(scale);
  const buckets = Math.ceil(opts.durationMs / width);
  const shares: Array<Record<Id, number>> = Array.from({ length: buckets }, () => ({
    A: 0,
    B: 0,
    C: 0,
    F: 0,
  }));
  let trulyDelivered = 0;
  let reportedDelivered = 0;
  let costMicro = 0;
  const latencies: number[] = [];
  let after = 0;
  let fakeAfter = 0;
  let afterDetect = 0;
  let fakeAfterDetect = 0;
  let oracleDelivered = 0;
  let oracleCost = 0;
  for (const m of messages) {
    let delivered: number | undefined;
    for (const a of m.attempts) {
      costMicro += PRICE[a.id];
      const b = Math.min(buckets - 1, Math.max(0, Math.floor(a.at / width)));
      if (shares[b]) shares[b][a.id]++;
      if (a.truly && a.receiptAt !== undefined) delivered = Math.min(delivered ?? Infinity, a.receiptAt);
    }
    if (delivered !== undefined) {
      trulyDelivered++;
      latencies.push(Math.max(0, delivered - m.at));
    }
    if (m.reported === 'DELIVERED' || m.reported === 'DELIVRD') reportedDelivered++;
    const first = m.attempts[0];
    if (m.at >= appearAt) {
      after++;
      if (first?.id === 'F') fakeAfter++;
    }
    if (opts.detectedAt !== undefined && m.at >= opts.detectedAt) {
      afterDetect++;
      if (first?.id === 'F') fakeAfterDetect++;
    }
    const o = oracleChoice(m.at, scale);
    oracleDelivered += networkState(o, m.at, scale).trueRatio;
    oracleCost += PRICE[o];
  }
  const accepted = messages.length;
  const perEur = costMicro > 0 ? trulyDelivered / (costMicro / 1e6) : 0;
  const oraclePerEur = oracleCost > 0 ? oracleDelivered / (oracleCost / 1e6) : 0;
  const deliveryRatio = accepted > 0 ? trulyDelivered / accepted : 0;
  const p = p95(latencies);
  return {
    name,
    accepted,
    trulyDelivered,
    reportedDelivered,
    costMicro,
    deliveryRatio,
    perEur,
    p95Ms: p,
    meets: accepted > 0 && deliveryRatio >= LEVEL.ratio && p <= LEVEL.p95Ms,
    fakeAfterAppear: after > 0 ? fakeAfter / after : 0,
    fakeAfterDetect:
      opts.detectedAt === undefined ? undefined : afterDetect > 0 ? fakeAfterDetect / afterDetect : 0,
    oraclePerEur,
    regret: oraclePerEur - perEur,
    shares,
  };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** The table (markdown). */
export function formatTable(rows: readonly StrategyRow[]): string {
  return [
    '| strategy | messages | delivery ratio (true) | reported DELIVRD | delivered per EUR | p95 submit->delivery (s) | meets OTP level | on fake route after it appears | after it is detected | regret vs oracle (delivered/EUR) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.accepted} | ${pct(r.deliveryRatio)} | ${pct(r.accepted ? r.reportedDelivered / r.accepted : 0)} | ${r.perEur.toFixed(0)} | ${(r.p95Ms / 1000).toFixed(1)} | ${r.meets ? 'yes' : 'no'} | ${pct(r.fakeAfterAppear)} | ${r.fakeAfterDetect === undefined ? 'not detected' : pct(r.fakeAfterDetect)} | ${r.regret.toFixed(0)} (${r.oraclePerEur > 0 ? ((100 * r.regret) / r.oraclePerEur).toFixed(1) : '0.0'} % of ${r.oraclePerEur.toFixed(0)}) |`,
    ),
  ].join('\n');
}

export interface Verdict {
  pass: boolean;
  best: boolean;
  fakeOk: boolean;
  why: string;
}

/**
 * Pass: the adaptive row meets the level with the best delivered per EUR among the rows meeting it, and
 * sends under 2 % of its traffic to the fake route after the hub detected it (not detected: fails).
 */
export function verdict(rows: readonly StrategyRow[], adaptiveName = 'adaptive'): Verdict {
  const adaptive = rows.find((r) => r.name === adaptiveName);
  if (!adaptive) return { pass: false, best: false, fakeOk: false, why: 'no adaptive row' };
  const rivals = rows.filter((r) => r !== adaptive && r.meets);
  const best = adaptive.meets && rivals.every((r) => adaptive.perEur >= r.perEur);
  const fakeOk = adaptive.fakeAfterDetect !== undefined && adaptive.fakeAfterDetect < 0.02;
  const why = [
    best
      ? 'adaptive has the best delivered/EUR meeting the OTP level'
      : adaptive.meets
        ? `adaptive meets the level but ${rivals
            .filter((r) => r.perEur > adaptive.perEur)
            .map((r) => r.name)
            .join(', ')} deliver more per EUR`
        : `adaptive misses the OTP level (${pct(adaptive.deliveryRatio)} delivered, p95 ${(adaptive.p95Ms / 1000).toFixed(1)} s)`,
    adaptive.fakeAfterDetect === undefined
      ? `the fake-DLR route was never detected (${pct(adaptive.fakeAfterAppear)} of adaptive's traffic went to it after it appeared)`
      : fakeOk
        ? `${pct(adaptive.fakeAfterDetect)} on the fake route after detection`
        : `${pct(adaptive.fakeAfterDetect)} on the fake route after detection (>= 2 %)`,
  ].join('; ');
  return { pass: best && fakeOk, best, fakeOk, why };
}

export const COLORS: Readonly<Record<Id, string>> = {
  A: '#1f77b4',
  B: '#ff7f0e',
  C: '#2ca02c',
  F: '#d62728',
};

/**
 * SVG: traffic share per network over time, one panel per strategy; dashed lines at the scenario's changes
 * (`marks`, as fractions of the run).
 */
export function shareSvg(
  panels: ReadonlyArray<{ name: string; shares: ReadonlyArray<Record<Id, number>> }>,
  opts: { title?: string; bucketLabel?: string; marks?: ReadonlyArray<{ at: number; label: string }> } = {},
): string {
  const W = 720;
  const PH = 120;
  const top = opts.title ? 40 : 20;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top + panels.length * (PH + 30) + 10}" font-family="sans-serif" font-size="11">`,
  ];
  if (opts.title) svg.push(`<text x="5" y="14" font-size="12">${esc(opts.title)}</text>`);
  panels.forEach((x, k) => {
    const y0 = top + k * (PH + 30);
    svg.push(
      `<text x="5" y="${y0 - 4}">${esc(x.name)}: traffic share per connector (${esc(opts.bucketLabel ?? '30 s buckets')})</text>`,
    );
    svg.push(`<rect x="40" y="${y0}" width="${W - 60}" height="${PH}" fill="none" stroke="#999"/>`);
    for (const m of opts.marks ?? []) {
      const px = 40 + m.at * (W - 60);
      svg.push(
        `<line x1="${px.toFixed(1)}" y1="${y0}" x2="${px.toFixed(1)}" y2="${y0 + PH}" stroke="#bbb" stroke-dasharray="3,3"/>`,
      );
      if (k === 0)
        svg.push(`<text x="${(px + 2).toFixed(1)}" y="${y0 + PH + 12}" fill="#888">${esc(m.label)}</text>`);
    }
    for (const id of IDS) {
      const pts = x.shares.map((b, i) => {
        const tot = IDS.reduce((s, j) => s + b[j], 0);
        const px = 40 + ((i + 0.5) * (W - 60)) / Math.max(1, x.shares.length);
        const py = y0 + PH - (PH * b[id]) / Math.max(1, tot);
        return `${px.toFixed(1)},${py.toFixed(1)}`;
      });
      svg.push(`<polyline fill="none" stroke="${COLORS[id]}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    }
    IDS.forEach((id, i) =>
      svg.push(
        `<text x="${W - 15 - (IDS.length - i) * 40}" y="${y0 + 12}" fill="${COLORS[id]}">${id}</text>`,
      ),
    );
  });
  svg.push('</svg>');
  return svg.join('\n') + '\n';
}
