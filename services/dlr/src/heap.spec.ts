import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAPPED_HEAP_BELOW, tuneHeapGrowth } from './heap.js';

// A capped process with a steady live set (~40 MB) that allocates batches living long enough to be
// promoted (as dlr's do across PostgreSQL round trips); prints its full GCs.
const CHILD = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
const { tuneHeapGrowth } = await import(process.env.HEAP_MODULE);
const tuned = tuneHeapGrowth(Number(process.env.PERCENT));
let major = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
}).observe({ entryTypes: ['gc'] });
const live = [];
for (let i = 0; i < 100; i++) live.push(Array.from({ length: 10000 }, (_, j) => ({ j })));
const ring = new Array(500);
for (let r = 0; r < 12000; r++) ring[r % 500] = Array.from({ length: 1000 }, (_, i) => ({ r, i }));
setTimeout(() => console.log(JSON.stringify({ tuned, major, live: live.length })), 50);
`;

function fullGcs(percent: number): { tuned: boolean; major: number } {
  const out = execFileSync(
    process.execPath,
    ['--max-old-space-size=192', '--import', 'tsx', '--input-type=module', '-e', CHILD],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PERCENT: String(percent),
        HEAP_MODULE: fileURLToPath(new URL('./heap.ts', import.meta.url)),
      },
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { tuned: boolean; major: number };
}

describe('tuneHeapGrowth', () => {
  it('leaves V8 alone without a cap, for 0 or for a non-integer', () => {
    expect(tuneHeapGrowth(50, CAPPED_HEAP_BELOW)).toBe(false);
    expect(tuneHeapGrowth(50, 4 * CAPPED_HEAP_BELOW)).toBe(false);
    expect(tuneHeapGrowth(0, 240 * 1024 * 1024)).toBe(false);
    expect(tuneHeapGrowth(Number.NaN, 240 * 1024 * 1024)).toBe(false);
  });

  it('takes effect when set at start-up: a capped heap runs fewer full GCs for the same work', () => {
    const v8Own = fullGcs(0);
    const tuned = fullGcs(50);
    const more = fullGcs(100);
    expect(v8Own.tuned).toBe(false);
    expect(tuned.tuned).toBe(true);
    expect(v8Own.major).toBeGreaterThan(tuned.major);
    expect(tuned.major).toBeGreaterThan(more.major);
  }, 60_000);
});
