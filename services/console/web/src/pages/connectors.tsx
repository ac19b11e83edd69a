// Connectors: configuration (binds, window, TPS limit), the live state on every egress replica (bind
// states, window in use, TPS now against the limit, throttled responses and failovers in the last minute,
// a stale marker for a replica that stopped reporting; admin's ListConnectorStates, every 5 s), traffic
// of the last 15 minutes from StatsService (delivery ratio, latency), enable/disable with a confirmation,
// and per destination country ratio and latency on a connector's own page.
import { useState } from 'preact/hooks';
import type { ConnectorLiveState, ListConnectorStatesResponse } from '@smshub/contracts';
import { api, ApiError, qs, type SessionInfo } from '../api';
import { ms, num, ratio } from '../format';
import { useLoad } from '../hooks';
import type { Json } from '../json';
import type { BreakdownJ, ConnectorJ } from '../types';
import { Link, Problem, Table } from '../ui';

const WINDOW_MIN = 15;
const LIVE_MS = 5_000;

type LiveJ = Json<ConnectorLiveState>;

const PHASE: Record<string, [string, string]> = {
  SESSION_BIND_STATE_BOUND: ['bound', 'ok'],
  SESSION_BIND_STATE_BINDING: ['binding', ''],
  SESSION_BIND_STATE_UNBOUND: ['unbound', 'off'],
};

function since(t: string | undefined): string {
  if (!t) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000));
  return s >= 3600 ? `${Math.floor(s / 3600)} h` : s >= 60 ? `${Math.floor(s / 60)} min` : `${s} s`;
}

/** Each replica running the connector: its sessions' states (since when), a stale marker, its last error. */
function Replicas(props: { live: LiveJ | undefined; enabled: boolean }) {
  const rs = props.live?.replicas ?? [];
  if (rs.length === 0) return <span class="hint">{props.enabled ? 'no egress replica reporting' : '—'}</span>;
  return (
    <>
      {rs.map((r) => {
        const st = r.state ?? {};
        return (
          <div key={st.replicaId} data-replica={st.replicaId} data-stale={r.stale ? 'true' : 'false'}>
            <span class="sub">{st.replicaId}</span>{' '}
            {r.stale ? (
              <span class="pill off" title="no report for 3 intervals: the replica may have died">
                stale {since(st.reportedAt)}
              </span>
            ) : null}
            {(st.sessions ?? []).map((x, i) => {
              const [name, cls] = PHASE[String(x.state)] ?? ['unknown', ''];
              return (
                <span
                  key={i}
                  class={`pill ${cls}`}
                  title={`${x.bindType} #${x.index ?? 0} since ${x.since ?? '?'}`}
                >
                  {name} {since(x.since)}
                </span>
              );
            })}
            {st.lastError ? <div class="sub">last error: {st.lastError}</div> : null}
          </div>
        );
      })}
    </>
  );
}

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
  const live = useLoad(
    'connectors-live',
    () => api.get<Json<ListConnectorStatesResponse>>('/api/live/connectors'),
    LIVE_MS,
  );
  const byId = new Map((stats.data?.rows ?? []).map((r) => [r.key ?? '', r.values]));
  const liveById = new Map((live.data?.connectors ?? []).map((l) => [l.connectorId ?? '', l]));
  return (
    <section>
      <h1>Connectors</h1>
      <Problem error={list.error} />
      {stats.error ? <p class="hint">traffic figures unavailable: {stats.error}</p> : null}
      {live.error ? <p class="hint">live state unavailable: {live.error}</p> : null}
      <Table label="connectors">
        <thead>
          <tr>
            <th>connector</th>
            <th>state</th>
            <th>binds</th>
            <th>live sessions</th>
            <th>window</th>
            <th>TPS / limit</th>
            <th title="throttled responses · failovers, last minute">thr. · f/o 1 min</th>
            <th>delivery ratio</th>
            <th>latency p95</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data?.connectors ?? []).map((c) => {
            const v = byId.get(c.id ?? '');
            const avg = Number(v?.accepted ?? 0) / (WINDOW_MIN * 60);
            const l = liveById.get(c.id ?? '');
            const tps = Number(l?.submitsPerSecond ?? 0);
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
                <td data-live="sessions">
                  <Replicas live={l} enabled={Boolean(c.enabled)} />
                </td>
                <td data-live="window">
                  {num(l?.windowInUse ?? 0)} / {num(l?.windowCapacity ?? 0)}
                </td>
                <td data-live="tps">
                  {num(tps)} / {limit ? num(limit) : '∞'}
                  {limit ? (
                    <meter min={0} max={limit} value={tps} high={limit * 0.9} title="TPS against the limit" />
                  ) : null}
                  <div class="sub" title={`average over ${WINDOW_MIN} min`}>
                    {avg.toFixed(2)} avg
                  </div>
                </td>
                <td data-live="throttled">
                  {num(l?.throttledLastMinute ?? 0)} · {num(l?.failoversLastMinute ?? 0)}
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
        Live figures are each egress replica's report (every few seconds), summed over the replicas that are
        not stale; a replica silent for 3 report intervals is marked stale and left out of the sums. Window:
        in use / the window of the bound sessions. thr. · f/o: throttled responses and failovers in the last
        minute.
        {live.data && !live.data.caughtUp ? ' Admin is still reading the reports.' : ''}
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
  const live = useLoad(
    `connector-live-${props.id}`,
    () => api.get<Json<ListConnectorStatesResponse>>(`/api/live/connectors${qs({ connector: props.id })}`),
    LIVE_MS,
  );
  const c = list.data?.connectors.find((x) => x.id === props.id);
  const l = live.data?.connectors?.find((x) => x.connectorId === props.id);
  const tps = Number(l?.submitsPerSecond ?? 0);
  const limit = Number(c?.maxSubmitRate ?? 0);
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
      <h2>Live</h2>
      {live.error ? <p class="hint">live state unavailable: {live.error}</p> : null}
      <dl class="facts" aria-label="live state">
        <dt>sessions</dt>
        <dd data-live="sessions">
          <Replicas live={l} enabled={Boolean(c?.enabled)} />
        </dd>
        <dt>bound</dt>
        <dd data-live="bound">
          {num(l?.sessionsBound ?? 0)} of {num(l?.sessionsTotal ?? 0)}
        </dd>
        <dt>window in use</dt>
        <dd data-live="window">
          {num(l?.windowInUse ?? 0)} / {num(l?.windowCapacity ?? 0)}
        </dd>
        <dt>submits/s</dt>
        <dd data-live="tps">
          {num(tps)} / {limit ? num(limit) : '∞'}
          {limit ? (
            <meter min={0} max={limit} value={tps} high={limit * 0.9} title="TPS against the limit" />
          ) : null}
        </dd>
        <dt>last minute</dt>
        <dd data-live="throttled">
          {num(l?.throttledLastMinute ?? 0)} throttled, {num(l?.failoversLastMinute ?? 0)} failovers
        </dd>
      </dl>
      <p class="hint">
        Every egress replica's report (every few seconds), summed over the replicas that are not stale.
        {live.data && !live.data.caughtUp ? ' Admin is still reading the reports.' : ''}
      </p>
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
