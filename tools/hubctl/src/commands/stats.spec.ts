import { describe, expect, it } from 'vitest';
import type { StatsValues } from '@smshub/contracts';
import { runWith } from '../testing.js';

const eur = (micro: bigint) => ({ currencyCode: 'EUR', minorUnits: micro, scale: 6 });

function values(submitted: number, delivered: number, failed: number, revenue?: bigint): StatsValues {
  return {
    submitted: BigInt(submitted),
    accepted: BigInt(submitted),
    rejected: 0n,
    delivered: BigInt(delivered),
    failed: BigInt(failed),
    ...(delivered + failed > 0
      ? { deliveryRatioPpm: Math.round((delivered * 1e6) / (delivered + failed)) }
      : {}),
    ...(delivered > 0 ? { latencyP50Ms: 2191, latencyP95Ms: 4544, latencyP99Ms: 9422 } : {}),
    segments: BigInt(delivered + failed),
    money:
      revenue === undefined
        ? []
        : [
            {
              currencyCode: 'EUR',
              revenue: eur(revenue),
              cost: eur(revenue / 2n),
              margin: eur(revenue / 2n),
              rated: BigInt(delivered + failed),
              missingRate: 0n,
              costUnconverted: 0n,
            },
          ],
    latencySamples: BigInt(delivered),
  };
}

describe('hubctl stats', () => {
  it('prints a summary table with the ratio, percentiles and money, and sends the filters', async () => {
    const r = await runWith(
      ['stats', 'summary', '--from', '-1h', '--country', 'gb', '--traffic-type', 'otp', '--account', 'a1,a2'],
      {
        getSummary: () => ({
          values: values(100, 90, 10, 4_000_000n),
          window: { startTime: new Date('2026-11-29T11:00:00Z'), endTime: new Date('2026-11-29T12:00:00Z') },
          dataUntil: new Date('2026-11-29T11:59:00Z'),
        }),
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SUBMITTED.*DLR %/);
    expect(r.stdout).toContain('90.00');
    expect(r.stdout).toContain('EUR 4.00');
    expect(r.stdout).toContain('EUR 2.00');
    expect(r.stdout).toContain('data until 2026-11-29T11:59:00.000Z');
    expect(r.calls[0]!.request).toMatchObject({
      window: { startTime: new Date('2026-11-29T11:00:00Z'), endTime: new Date('2026-11-29T12:00:00Z') },
      filter: { countries: ['GB'], trafficTypes: [1], accountIds: ['a1', 'a2'] },
    });
  });

  it('prints a breakdown as JSON (64-bit counts as strings) and names traffic types in tables', async () => {
    const res = {
      rows: [
        { key: '1', values: values(5, 5, 0) },
        { key: '3', values: values(2, 1, 1) },
      ],
      total: values(7, 6, 1),
    };
    const json = await runWith(['stats', 'breakdown', '--by', 'traffic-type', '-o', 'json'], {
      getBreakdown: () => res,
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      rows: [{ key: '1', values: { submitted: '5', deliveryRatioPpm: 1000000 } }, { key: '3' }],
      total: { submitted: '7' },
    });
    expect(json.calls[0]!.request).toMatchObject({ dimension: 5, order: 1 });
    const table = await runWith(['stats', 'breakdown', '--by', 'traffic-type', '--order', 'delivery-ratio'], {
      getBreakdown: () => res,
    });
    expect(table.stdout).toMatch(/TRAFFIC-TYPE/);
    expect(table.stdout).toMatch(/otp/);
    expect(table.stdout).toMatch(/marketing/);
    expect(table.calls[0]!.request).toMatchObject({ order: 3 });
  });

  it('prints a grouped series as CSV with one money column per currency', async () => {
    const t0 = new Date('2026-11-29T11:00:00Z');
    const t1 = new Date('2026-11-29T11:05:00Z');
    const r = await runWith(
      ['stats', 'series', '--from', '-1h', '--step', '5m', '--group-by', 'connector', '-o', 'csv'],
      {
        getSeries: () => ({
          series: [
            {
              key: 'conn-1',
              points: [
                { time: t0, values: values(3, 2, 1, 120_000n) },
                { time: t1, values: values(0, 0, 0) },
              ],
            },
          ],
          stepSeconds: 300,
        }),
      },
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\r\n');
    expect(lines[0]).toBe(
      'time,connector,submitted,accepted,rejected,delivered,failed,delivery_ratio_percent,latency_p50_ms,latency_p95_ms,latency_p99_ms,segments,revenue_EUR,cost_EUR,margin_EUR',
    );
    expect(lines[1]).toBe('2026-11-29T11:00:00.000Z,conn-1,3,3,0,2,1,66.67,2191,4544,9422,3,0.12,0.06,0.06');
    expect(lines[2]).toBe('2026-11-29T11:05:00.000Z,conn-1,0,0,0,0,0,,,,,0,,,');
    expect(r.calls[0]!.request).toMatchObject({ stepSeconds: 300, groupBy: 2 });
  });

  it('refuses a step that is not whole minutes, an unknown dimension, and csv on other commands', async () => {
    expect((await runWith(['stats', 'series', '--step', '90s'])).code).toBe(64);
    expect((await runWith(['stats', 'breakdown', '--by', 'planet'])).code).toBe(64);
    const csv = await runWith(
      ['settlement', 'totals', '--party', 'customer', '--from', '2026-11', '--to', '2026-12', '-o', 'csv'],
      {
        getTotals: () => ({ totals: [], nextPageToken: '' }),
      },
    );
    expect(csv.code).toBe(64);
    expect(csv.stderr).toMatch(/csv is not available/);
  });
});
