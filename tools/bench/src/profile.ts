// Top self-time functions of a V8 CPU profile (the .cpuprofile files `node --cpu-prof` writes).

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotFunction {
  /** `name (file:line)`; `(garbage collector)`, `(program)`, `(idle)` as V8 names them. */
  name: string;
  selfMs: number;
  /** Share of the non-idle sampled time, percent. */
  percent: number;
}

export interface ProfileSummary {
  /** Sampled time that was not idle, ms. */
  busyMs: number;
  idleMs: number;
  top: HotFunction[];
}

/** A short location: the path from the last `node_modules/` or the repository folders on, 1-based line. */
export function shortLocation(url: string, lineNumber: number): string {
  if (!url) return '';
  let p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) p = p.slice(nm + 'node_modules/'.length);
  else {
    const m = /(?:^|\/)((?:libs|services|tools)\/.*)$/.exec(p);
    if (m?.[1]) p = m[1];
  }
  return `${p}:${lineNumber + 1}`;
}

/**
 * Self time per function (frames with the same name and location are added up), highest first. Uses the
 * sample timeline when present (exact), else hit counts times the mean sampling interval.
 */
export function summariseProfile(
  profile: CpuProfile,
  topN = 15,
  /** Maps a bundle position to its source (from the bundle's source map); 0-based lines and columns. */
  resolve?: (url: string, line: number, column: number) => { url: string; line: number } | undefined,
): ProfileSummary {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the time before sample i; attribute the interval after a sample to it.
    for (let i = 0; i < samples.length; i++) {
      const next = deltas[i + 1] ?? 0;
      const id = samples[i] as number;
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next));
    }
  } else {
    const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    const interval = hits > 0 ? (profile.endTime - profile.startTime) / hits : 0;
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * interval);
  }
  const byKey = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const n of profile.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    const f = n.callFrame;
    if (f.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const orig = f.url && resolve ? resolve(f.url, f.lineNumber, f.columnNumber ?? 0) : undefined;
    const loc = orig ? shortLocation(orig.url, orig.line) : shortLocation(f.url, f.lineNumber);
    const key = `${f.functionName || '(anonymous)'}${loc ? ` (${loc})` : ''}`;
    byKey.set(key, (byKey.get(key) ?? 0) + us);
  }
  const top = [...byKey.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, us]) => ({
      name,
      selfMs: Math.round(us / 100) / 10,
      percent: busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0,
    }));
  return { busyMs: Math.round(busyUs / 1000), idleMs: Math.round(idleUs / 1000), top };
}
