// Smoke test of the whole-hub routing benchmark (npm run bench -- routing-sim): issue 21's scenario at
// 1/20 of its length (36 s, 3 msg/s per strategy) runs to the end against the real hub, Kafka and
// PostgreSQL, and reports a row per strategy with the messages the simulators saw. Not the verdict: a
// 36 s run is too short for learning to show.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { testDatabaseUrl, testKafkaBrokers } from '@smshub/testing';
import { runRoutingBench, STRATEGIES } from '../src/routing-hub.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'routing-sim-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(
  'runs the scenario through the whole hub and reports the three strategies',
  { timeout: 600_000 },
  async () => {
    const svgPath = path.join(dir, 'routing-sim.svg');
    const lines: string[] = [];
    const result = await runRoutingBench({
      kafkaBrokers: testKafkaBrokers().join(','),
      databaseUrl: testDatabaseUrl(),
      scale: 0.05,
      rate: 3,
      svgPath,
      log: (m) => lines.push(m),
    });
    expect(result.rows.map((r) => r.name)).toEqual(STRATEGIES.map((s) => s.name));
    for (const row of result.rows) {
      // Every message the customer got accepted was routed to a supplier and counted.
      expect(row.accepted, `${row.name}: ${lines.join('\n')}`).toBeGreaterThan(50);
      expect(row.costMicro).toBeGreaterThan(0);
      expect(row.trulyDelivered).toBeGreaterThan(0);
      expect(result.table).toContain(`| ${row.name} |`);
    }
    // The scenario's steps were applied to the running simulators and the hub.
    expect(lines.some((l) => l.includes('A degrades to 60 %'))).toBe(true);
    expect(result.appearedAt).toBeGreaterThan(0);
    expect(result.report).toMatch(/verdict: (PASS|FAIL)/);
    expect(readFileSync(svgPath, 'utf8')).toMatch(/least cost \(static\): traffic share/);
  },
);
