import { describe, expect, it } from 'vitest';
import { evaluateTargets, formatReport, type BenchResult, type LoadgenResult } from './report.js';

const lat = (p99: number) => ({ count: 1000, mean: p99 / 3, p50: p99 / 4, p95: p99 / 2, p99, max: p99 * 2 });
const load = (accepted: number, p99: number): LoadgenResult => ({
  messages: accepted,
  submitted: accepted,
  accepted,
  errors: {},
  submitPhaseMs: 75_000,
  acceptedPerSecond: accepted / 75,
  receipts: accepted,
  receiptsPerSecond: accepted / 76,
  missingReceipts: 0,
  unmatchedReceipts: 0,
  respLatencyMs: lat(p99),
  receiptLatencyMs: lat(p99 * 10),
  cpuMs: 1000,
  cpuMicrosPerSubmit: 50,
});

function result(): BenchResult {
  const r: BenchResult = {
    startedAt: '2026-11-29T17:00:00.000Z',
    command: 'npm run bench',
    machine: { cpu: 'Test CPU', cores: 2, memoryGb: 8, node: 'v20.19.0', kernel: '6.1' },
    loadAverage: { before: [0.5, 0.4, 0.3], after: [1.9, 1, 0.5] },
    settings: {
      binds: 4,
      window: 100,
      rate: 0,
      durationS: 75,
      warmupS: 15,
      mix: 'gsm7=80,ucs2=10,long=10',
      partitions: 6,
      replicas: {},
      bundles: true,
      logLevel: 'info',
    },
    phases: [
      {
        name: 'max',
        targetRate: 0,
        durationS: 75,
        load: load(450_000, 80),
        rated: 450_000,
        window: { fromS: 15, toS: 75, accepted: 6100, receipts: 6000, rated: 5900 },
      },
      {
        name: 'half',
        targetRate: 3000,
        durationS: 20,
        load: load(60_000, 31.5),
        rated: 60_000,
        window: { fromS: 2, toS: 20, accepted: 3000, receipts: 3000, rated: 3000 },
      },
    ],
    cpu: {
      windowS: 80,
      messages: 450_000,
      processes: [
        { name: 'ingress', role: 'hub', cpuSeconds: 40, cpuMicrosPerMessage: 89, peakRssMb: 180 },
        { name: 'dlr', role: 'hub', cpuSeconds: 30, cpuMicrosPerMessage: 67, peakRssMb: 310.5 },
        { name: 'kafka', role: 'infra', cpuSeconds: 50, cpuMicrosPerMessage: 111, peakRssMb: 600 },
        { name: 'loadgen', role: 'outside', cpuSeconds: 20, cpuMicrosPerMessage: 44 },
      ],
      hubMicrosPerMessage: 156,
      allMicrosPerMessage: 267,
    },
    lag: [{ t: 2, lag: { routing: 1200, dlr: 0 }, rated: 5000 }],
    maxLag: { routing: 1200, dlr: 0 },
    targets: [],
    notes: ['a note'],
  };
  r.targets = evaluateTargets(r);
  return r;
}

describe('targets and report', () => {
  it('judges each target of issue 17 from the figures', () => {
    const t = result().targets;
    expect(t.map((x) => [x.target, x.met])).toEqual([
      ['>= 3,000 msg/s for 60 s', true],
      ['<= 700 µs', true],
      ['<= 15 ms', false],
      ['<= 1 s', true],
      ['<= 256 MB', false],
    ]);
    expect(t[0]?.measured).toBe('5,900 msg/s over 60 s'); // the slowest of accepted, receipts and rated
    expect(t[3]?.measured).toBe('0.32 s (0 missing)');
    expect(t[4]?.measured).toBe('310.5 MB (dlr)'); // Kafka's RSS is not a hub process's
    expect(t[4]?.what).toBe('peak RSS of any hub process (no heap cap)');
  });

  it('misses the receipt target when receipts are missing at half rate, and names the heap cap', () => {
    const r = result();
    const half = r.phases[1]!;
    half.load = { ...half.load, missingReceipts: 3 };
    r.settings.nodeOptions = '--max-old-space-size=192';
    const t = evaluateTargets(r);
    expect(t[3]).toMatchObject({ measured: '0.32 s (3 missing)', met: false });
    expect(t[4]?.what).toBe('peak RSS of any hub process (NODE_OPTIONS --max-old-space-size=192)');
  });

  it('formats a markdown summary with every section', () => {
    const md = formatReport(result());
    expect(md).toContain('# smshub end-to-end benchmark, 2026-11-29T17:00:00.000Z');
    expect(md).toContain('Load average before 0.50 0.40 0.30, after 1.90 1.00 0.50.');
    expect(md).toContain(
      '| submit_sm_resp p99 at half the maximum rate (3,000 msg/s) | <= 15 ms | 31.5 ms | **missed** |',
    );
    expect(md).toContain(
      '| max | max | 450,000 | 450,000 | 0 | 6,000 | 5,921 | 15–75 s | 6,100 | 6,000 | 5,900 | 0 | 450,000 |',
    );
    expect(md).toContain('| kafka | infra | 50 | 111 | 600 |');
    expect(md).toContain('| **hub + Kafka + PostgreSQL** | | | **267** | |');
    expect(md).toContain('| 2 | 1,200 | 0 | 5,000 |');
    expect(md).toContain('- a note');
    expect(md).not.toContain('Raw Kafka baseline');
  });

  it('states the commit and the storage the run used', () => {
    const r = result();
    r.commit = 'abc1234';
    r.storage = {
      mode: 'durable',
      postgres: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' },
      kafkaFlush: {},
    };
    const md = formatReport(r);
    expect(md).toContain('Command: `npm run bench`, commit abc1234.');
    expect(md).toContain(
      'Storage: durable (PostgreSQL fsync=on, synchronous_commit=on, full_page_writes=on;',
    );
  });
});
