// Connectors: configuration (binds, window, TPS limit), traffic of the last 15 minutes from StatsService
// (TPS against the limit, delivery ratio, latency), enable/disable with a confirmation, and per
// destination country ratio and latency on a connector's own page.
import { useState } from 'preact/hooks';
import { api, ApiError, qs, type SessionInfo } from '../api';
import { ms, num, ratio } from '../format';
import { useLoad } from '../hooks';
import type { BreakdownJ, ConnectorJ } from '../types';
import { Link, Problem, Table } from '../ui';

const WINDOW_MIN = 15;

function Confirm(props: { text: string; onYes: () => void; onNo: () => void }) {
  return (
    <div class="modal" role="dialog" aria-modal="true" aria-label="confirm">
      <div class="modal-box">
        <p>{props.text}</p>
        <div class="modal-actions">
          <button class="danger" onClick={props.onYes}>
            Yes
          </button>
          <button onClick={props.onNo}>Cancel</button>
        </div>
      </div>
    </div>
  );
}

function Toggle(props: { c: ConnectorJ; session: SessionInfo; done: () => void }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!props.session.actions.includes('connectors.toggle')) return null;
  const enabled = Boolean(props.c.enabled);
  const go = async () => {
    setAsking(false);
    try {
      await api.post(`/api/connectors/${encodeURIComponent(props.c.id ?? '')}/enabled`, {
        enabled: !enabled,
        revision: props.c.revision,
      });
      props.done();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <>
      <button class={enabled ? 'danger' : ''} onClick={() => setAsking(true)}>
        {enabled ? 'Disable' : 'Enable'}
      </button>
      {asking ? (
        <Confirm
          text={
            enabled
              ? `Disable connector ${props.c.name ?? props.c.id}? Egress unbinds it and routing fails traffic over to the next candidate.`
              : `Enable connector ${props.c.name ?? props.c.id}? Egress binds it and routing may send traffic to it.`
          }
          onYes={go}
          onNo={() => setAsking(false)}
        />
      ) : null}
      <Problem error={error} />
    </>
  );
}

export function Connectors(props: { session: SessionInfo }) {
  const list = useLoad('connectors', () => api.get<{ connectors: ConnectorJ[] }>('/api/connectors'));
  const stats = useLoad(
    'connector-stats',
    () => api.get<BreakdownJ>(`/api/stats/breakdown${qs({ by: 'connector', minutes: WINDOW_MIN })}`),
    10_000,
  );
  const byId = new Map((stats.data?.rows ?? []).map((r) => [r.key ?? '', r.values]));
  return (
    <section>
      <h1>Connectors</h1>
      <Problem error={list.error} />
      {stats.error ? <p class="hint">traffic figures unavailable: {stats.error}</p> : null}
      <Table label="connectors">
        <thead>
          <tr>
            <th>connector</th>
            <th>state</th>
            <th>binds</th>
            <th>window</th>
            <th>TPS (last {WINDOW_MIN} min) / limit</th>
            <th>delivery ratio</th>
            <th>latency p95</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data?.connectors ?? []).map((c) => {
            const v = byId.get(c.id ?? '');
            const tps = Number(v?.accepted ?? 0) / (WINDOW_MIN * 60);
            const limit = Number(c.maxSubmitRate ?? 0);
            return (
              <tr key={c.id} data-connector={c.id}>
                <td>
                  <Link href={`/connectors/${encodeURIComponent(c.id ?? '')}`}>{c.name || c.id}</Link>
                  <div class="sub">{c.id}</div>
                </td>
                <td>
                  <span class={c.enabled ? 'pill ok' : 'pill off'}>{c.enabled ? 'enabled' : 'disabled'}</span>
                </td>
                <td>
                  {(c.binds ?? []).map((b, i) => (
                    <div key={i}>
                      {b.host}:{b.port}
                      {b.tls ? ' TLS' : ''} × {b.sessions ?? 1}
                    </div>
                  ))}
                </td>
                <td>{num(c.windowSize)}</td>
                <td>
                  {tps.toFixed(2)} / {limit ? num(limit) : '∞'}
                  {limit ? (
                    <meter min={0} max={limit} value={tps} high={limit * 0.9} title="TPS against the limit" />
                  ) : null}
                </td>
                <td>{ratio(v?.deliveryRatioPpm)}</td>
                <td>{ms(v?.latencyP95Ms)}</td>
                <td>
                  <Toggle c={c} session={props.session} done={list.reload} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </Table>
      <p class="hint">
        Bind states, window use, throttling and failovers live in egress's metrics (Grafana's connector
        dashboard); the console shows configuration and delivery figures.
      </p>
    </section>
  );
}

export function ConnectorDetail(props: { id: string; session: SessionInfo }) {
  const [minutes, setMinutes] = useState(60);
  const list = useLoad('connectors', () => api.get<{ connectors: ConnectorJ[] }>('/api/connectors'));
  const dest = useLoad(`dest-${props.id}-${minutes}`, () =>
    api.get<BreakdownJ>(`/api/stats/breakdown${qs({ by: 'country', connector: props.id, minutes })}`),
  );
  const c = list.data?.connectors.find((x) => x.id === props.id);
  return (
    <section>
      <p>
        <Link href="/connectors">← connectors</Link>
      </p>
      <h1>Connector {c?.name ?? props.id}</h1>
      <Problem error={list.error} />
      {c ? (
        <dl class="facts">
          <dt>state</dt>
          <dd>{c.enabled ? 'enabled' : 'disabled'}</dd>
          <dt>supplier</dt>
          <dd>{c.supplierId || '—'}</dd>
          <dt>window</dt>
          <dd>{num(c.windowSize)}</dd>
          <dt>TPS limit</dt>
          <dd>{c.maxSubmitRate ? num(c.maxSubmitRate) : 'none'}</dd>
          <dt>currency</dt>
          <dd>{c.currencyCode || '—'}</dd>
        </dl>
      ) : null}
      {c ? <Toggle c={c} session={props.session} done={list.reload} /> : null}
      <h2>Per destination</h2>
      <div class="toolbar">
        {[60, 1440].map((m) => (
          <button key={m} class={m === minutes ? 'on' : ''} onClick={() => setMinutes(m)}>
            {m === 60 ? 'last hour' : 'last 24 h'}
          </button>
        ))}
      </div>
      <Problem error={dest.error} />
      <Table label="per destination">
        <thead>
          <tr>
            <th>country</th>
            <th>accepted</th>
            <th>delivered</th>
            <th>failed</th>
            <th>ratio</th>
            <th>p50</th>
            <th>p95</th>
          </tr>
        </thead>
        <tbody>
          {(dest.data?.rows ?? []).map((r) => (
            <tr key={r.key}>
              <td>{r.key || 'unknown'}</td>
              <td>{num(r.values?.accepted)}</td>
              <td>{num(r.values?.delivered)}</td>
              <td>{num(r.values?.failed)}</td>
              <td>{ratio(r.values?.deliveryRatioPpm)}</td>
              <td>{ms(r.values?.latencyP50Ms)}</td>
              <td>{ms(r.values?.latencyP95Ms)}</td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}
