// Live view of the hub: per-minute statistics (StatsService) and the consumer groups' lag (admin's
// ListConsumerLag), refreshed every 5 seconds.
import { useMemo, useState } from 'preact/hooks';
import { api, qs } from '../api';
import { Chart } from '../chart';
import { ms, num, ratio, time } from '../format';
import { useLoad } from '../hooks';
import type { BreakdownJ, SeriesJ, StatsSummaryJ } from '../types';
import { Card, Link, Problem, Table } from '../ui';

const WINDOWS = [
  ['15 min', 15],
  ['1 h', 60],
  ['6 h', 360],
  ['24 h', 1440],
] as const;

const REFRESH_MS = 5_000;
/** Groups listed under the lag card, the worst first. */
const WORST = 5;

interface LagJ {
  totalLag?: string;
  groups?: Array<{
    group?: string;
    state?: string;
    members?: number;
    lag?: string;
    topics?: Array<{ topic?: string; lag?: string }>;
  }>;
}

export function Overview() {
  const [minutes, setMinutes] = useState(60);
  const step = minutes <= 60 ? 60 : minutes <= 360 ? 300 : 900;
  const series = useLoad(
    `s${minutes}`,
    () => api.get<SeriesJ>(`/api/stats/series${qs({ minutes, step })}`),
    REFRESH_MS,
  );
  const summary = useLoad(
    `m${minutes}`,
    () => api.get<StatsSummaryJ>(`/api/stats/summary${qs({ minutes })}`),
    REFRESH_MS,
  );
  const connectors = useLoad(
    `c${minutes}`,
    () => api.get<BreakdownJ>(`/api/stats/breakdown${qs({ by: 'connector', minutes })}`),
    REFRESH_MS,
  );

  const lag = useLoad('lag', () => api.get<LagJ>('/api/live/lag'), REFRESH_MS);
  const worst = (lag.data?.groups ?? []).slice(0, WORST);

  const points = series.data?.series?.[0]?.points ?? [];
  const charts = useMemo(() => {
    const times = points.map((p) => Date.parse(p.time ?? '') / 1000);
    const v = (f: (x: NonNullable<(typeof points)[number]['values']>) => number | null) =>
      points.map((p) => (p.values ? f(p.values) : null));
    const perSecond = (n: string | number | undefined) => Number(n ?? 0) / step;
    return {
      times,
      rate: [
        { label: 'in (submitted)', values: v((x) => perSecond(x.submitted)), color: '#2563eb' },
        { label: 'out (to networks)', values: v((x) => perSecond(x.accepted)), color: '#16a34a' },
      ],
      ratio: [
        {
          label: 'delivered',
          values: v((x) => (x.deliveryRatioPpm === undefined ? null : Number(x.deliveryRatioPpm) / 10_000)),
          color: '#16a34a',
        },
      ],
      latency: [
        {
          label: 'p50',
          values: v((x) => (x.latencyP50Ms === undefined ? null : Number(x.latencyP50Ms) / 1000)),
          color: '#0891b2',
        },
        {
          label: 'p95',
          values: v((x) => (x.latencyP95Ms === undefined ? null : Number(x.latencyP95Ms) / 1000)),
          color: '#9333ea',
        },
      ],
      errors: [
        { label: 'rejected by the hub', values: v((x) => Number(x.rejected ?? 0)), color: '#dc2626' },
        { label: 'failed at networks', values: v((x) => Number(x.failed ?? 0)), color: '#ea580c' },
      ],
    };
  }, [points, step]);

  const s = summary.data?.values;
  return (
    <section>
      <h1>Overview</h1>
      <div class="toolbar" role="group" aria-label="window">
        {WINDOWS.map(([label, m]) => (
          <button key={m} class={m === minutes ? 'on' : ''} onClick={() => setMinutes(m)}>
            {label}
          </button>
        ))}
        <span class="hint">
          updates every {REFRESH_MS / 1000} s · data until {time(summary.data?.dataUntil)}
        </span>
      </div>
      <Problem error={series.error ?? summary.error} />
      <div class="cards">
        <Card label="submitted" value={num(s?.submitted)} />
        <Card label="delivery ratio" value={ratio(s?.deliveryRatioPpm)} />
        <Card label="latency p50 / p95" value={`${ms(s?.latencyP50Ms)} / ${ms(s?.latencyP95Ms)}`} />
        <Card label="rejected" value={num(s?.rejected)} />
        <Card label="failed" value={num(s?.failed)} />
        <Card
          label="pending"
          value={num(Number(s?.accepted ?? 0) - Number(s?.delivered ?? 0) - Number(s?.failed ?? 0))}
        />
        <Card label="consumer lag" value={lag.data ? num(lag.data.totalLag) : lag.error ? '—' : '…'} />
      </div>
      <div class="charts">
        <Chart title="messages per second" times={charts.times} series={charts.rate} unit="/s" />
        <Chart title="delivery ratio" times={charts.times} series={charts.ratio} unit="%" />
        <Chart title="submit → receipt latency" times={charts.times} series={charts.latency} unit="s" />
        <Chart title={`errors per ${step / 60} min`} times={charts.times} series={charts.errors} />
      </div>
      <h2>Consumer lag</h2>
      {lag.error ? <p class="hint">consumer lag unavailable: {lag.error}</p> : null}
      <Table label="consumer lag">
        <thead>
          <tr>
            <th>group</th>
            <th>lag</th>
            <th>members</th>
            <th>state</th>
            <th>topics</th>
          </tr>
        </thead>
        <tbody>
          {worst.map((g) => (
            <tr key={g.group} data-group={g.group}>
              <td>{g.group}</td>
              <td>{num(g.lag)}</td>
              <td>{num(g.members ?? 0)}</td>
              <td>{g.state}</td>
              <td class="sub">
                {(g.topics ?? [])
                  .filter((t) => t.lag !== '0')
                  .map((t) => `${t.topic} ${t.lag}`)
                  .join(', ') || '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <h2>Connectors</h2>
      <Problem error={connectors.error} />
      <Table label="connector statistics">
        <thead>
          <tr>
            <th>connector</th>
            <th>accepted</th>
            <th>delivered</th>
            <th>failed</th>
            <th>ratio</th>
            <th>p95</th>
          </tr>
        </thead>
        <tbody>
          {(connectors.data?.rows ?? []).map((r) => (
            <tr key={r.key}>
              <td>
                {r.key ? (
                  <Link href={`/connectors/${encodeURIComponent(r.key)}`}>{r.key}</Link>
                ) : (
                  '(not dispatched)'
                )}
              </td>
              <td>{num(r.values?.accepted)}</td>
              <td>{num(r.values?.delivered)}</td>
              <td>{num(r.values?.failed)}</td>
              <td>{ratio(r.values?.deliveryRatioPpm)}</td>
              <td>{ms(r.values?.latencyP95Ms)}</td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}
