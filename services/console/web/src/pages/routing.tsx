// Routing and firewall rules, and editing a routing rule: the admin API validates every change (the same
// validation as hubctl), and its message is shown as is.
import { useState } from 'preact/hooks';
import { api, ApiError, type SessionInfo } from '../api';
import { enumName, money, time } from '../format';
import { useLoad } from '../hooks';
import { navigate } from '../router';
import type { FirewallRuleJ, RoutingRuleJ } from '../types';
import { Link, Problem, Table } from '../ui';

interface Rules {
  routingRules: RoutingRuleJ[];
  firewallRules: FirewallRuleJ[];
}

const list = (xs: unknown[] | undefined) => (xs && xs.length ? xs.join(', ') : 'any');

/** StatsService.GetRuleHits as JSON (counts are strings: 64-bit). */
interface RuleHitsJ {
  ruleId: string;
  kind: string;
  hitsLastHour?: string;
  hitsLastDay?: string;
  lastHitAt?: string;
}

function HitCells(props: { hits: Map<string, RuleHitsJ> | null; id: string | undefined }) {
  if (!props.hits) return <td class="sub">n/a</td>;
  const h = props.hits.get(props.id ?? '');
  return (
    <td data-hits={props.id}>
      {h?.hitsLastHour ?? '0'} / {h?.hitsLastDay ?? '0'}
      {h?.lastHitAt ? <div class="sub">last {time(h.lastHitAt)}</div> : null}
    </td>
  );
}

export function Routing(props: { session: SessionInfo }) {
  const res = useLoad('routing', () => api.get<Rules>('/api/routing'));
  // Hit counts refresh every 30 s; without the stats service the page still works ("n/a").
  const hitsRes = useLoad(
    'routing-hits',
    () => api.get<{ rules?: RuleHitsJ[] }>('/api/routing/hits'),
    30_000,
  );
  const hits = hitsRes.data ? new Map((hitsRes.data.rules ?? []).map((h) => [h.ruleId, h])) : null;
  const [error, setError] = useState<string | null>(null);
  const canEdit = props.session.actions.includes('routing.edit');
  const toggleFirewall = async (r: FirewallRuleJ) => {
    try {
      await api.post(`/api/firewall/rules/${encodeURIComponent(r.id ?? '')}/enabled`, {
        enabled: !r.enabled,
        revision: r.revision,
      });
      res.reload();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const routes = [...(res.data?.routingRules ?? [])].sort(
    (a, b) => Number(a.priority ?? 0) - Number(b.priority ?? 0),
  );
  return (
    <section>
      <h1>Routing & firewall</h1>
      <Problem error={res.error ?? error} />
      <h2>Routing rules</h2>
      <Table label="routing rules">
        <thead>
          <tr>
            <th>priority</th>
            <th>rule</th>
            <th>state</th>
            <th>matches</th>
            <th>strategy</th>
            <th>targets</th>
            <th>hits 1 h / 24 h</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {routes.map((r) => (
            <tr key={r.id} data-rule={r.id}>
              <td>{r.priority ?? 0}</td>
              <td>
                {r.name || r.id}
                <div class="sub">{r.id}</div>
              </td>
              <td>
                <span class={r.enabled ? 'pill ok' : 'pill off'}>{r.enabled ? 'enabled' : 'disabled'}</span>
                {r.block ? <span class="pill off">blocks</span> : null}
              </td>
              <td>
                accounts {list(r.accountIds)}; prefixes {list(r.destinationPrefixes)}; countries{' '}
                {list(r.countries)}
              </td>
              <td>{enumName(r.strategy, 'ROUTE_STRATEGY_')}</td>
              <td>
                {(r.targets ?? [])
                  .map((t) => `${t.connectorId}${t.weight ? ` (${t.weight})` : ''}`)
                  .join(' → ')}
              </td>
              <HitCells hits={hits} id={r.id} />
              <td>
                {canEdit ? <Link href={`/routing/rules/${encodeURIComponent(r.id ?? '')}`}>Edit</Link> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <h2>Firewall rules</h2>
      <Table label="firewall rules">
        <thead>
          <tr>
            <th>priority</th>
            <th>rule</th>
            <th>state</th>
            <th>action</th>
            <th>matches</th>
            <th>refused 1 h / 24 h</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(res.data?.firewallRules ?? []).map((r) => (
            <tr key={r.id}>
              <td>{r.priority ?? 0}</td>
              <td>
                {r.name || r.id}
                <div class="sub">{r.id}</div>
              </td>
              <td>
                <span class={r.enabled ? 'pill ok' : 'pill off'}>{r.enabled ? 'enabled' : 'disabled'}</span>
              </td>
              <td>{enumName(r.action, 'FIREWALL_ACTION_')}</td>
              <td>
                {r.kind ? `${r.kind}; ` : ''}content {list(r.contentPatterns)}; prefixes{' '}
                {list(r.destinationPrefixes)}
              </td>
              <HitCells hits={hits} id={r.id} />
              <td>
                {canEdit ? (
                  <button onClick={() => toggleFirewall(r)}>{r.enabled ? 'Disable' : 'Enable'}</button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <DryRun />
      <Estimates rules={routes.filter((r) => r.strategy === 'ROUTE_STRATEGY_ADAPTIVE')} />
    </section>
  );
}

/** RoutingService.DryRun as JSON. */
interface DryRunJ {
  outcome?: string;
  e164?: string;
  country?: string;
  mccMnc?: string;
  firewall?: { rejected?: boolean; ruleId?: string; reason?: string; statefulRuleIds?: string[] };
  ruleId?: string;
  strategy?: string;
  candidates?: {
    connectorId?: string;
    eligible?: boolean;
    position?: number;
    reason?: string;
    price?: { currencyCode?: string; minorUnits?: string; scale?: number };
  }[];
  chosenConnectorId?: string;
  chosenReason?: string;
  rejectCategory?: string;
  rejectReason?: string;
  customerStat?: string;
  holdUntil?: string;
  replicaId?: string;
}

/** "Where would this message go and why": the engine's decision now, nothing sent or counted. */
function DryRun() {
  const [form, setForm] = useState({ accountId: '', destination: '', source: '', text: '', trafficType: '' });
  const [result, setResult] = useState<DryRunJ | null>(null);
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setResult(await api.post<DryRunJ>('/api/routing/dry-run', form));
    } catch (err) {
      setResult(null);
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const r = result;
  return (
    <>
      <h2>Dry run: where would this message go and why</h2>
      <form class="edit" onSubmit={run} aria-label="dry run">
        <label>
          account id
          <input name="accountId" value={form.accountId} onInput={set('accountId')} required />
        </label>
        <label>
          destination
          <input name="destination" value={form.destination} onInput={set('destination')} required />
        </label>
        <label>
          sender
          <input name="source" value={form.source} onInput={set('source')} />
        </label>
        <label>
          text
          <input name="text" value={form.text} onInput={set('text')} />
        </label>
        <label>
          traffic type
          <select name="trafficType" value={form.trafficType} onChange={set('trafficType')}>
            <option value="">unspecified</option>
            <option value="otp">otp</option>
            <option value="transactional">transactional</option>
            <option value="marketing">marketing</option>
          </select>
        </label>
        <button type="submit">Dry run</button>
        <Problem error={error} />
      </form>
      {r ? (
        <div aria-label="dry run result" role="region">
          <p>
            <strong data-outcome={r.outcome}>{r.outcome}</strong> — {r.e164 || 'invalid number'} {r.country}{' '}
            {r.mccMnc}
            {r.replicaId ? <span class="sub"> (decided by {r.replicaId})</span> : null}
          </p>
          <p>
            firewall:{' '}
            {r.firewall?.rejected ? `refused by ${r.firewall.ruleId}: ${r.firewall.reason}` : 'passed'}
            {r.firewall?.statefulRuleIds?.length
              ? ` (not evaluated: ${r.firewall.statefulRuleIds.join(', ')})`
              : ''}
          </p>
          <p>rule: {r.ruleId ? `${r.ruleId} (${r.strategy})` : 'none'}</p>
          {r.outcome === 'rejected' ? (
            <p>
              rejected: {r.rejectCategory}: {r.rejectReason} (receipt {r.customerStat})
            </p>
          ) : (
            <p>
              chosen: <strong data-chosen={r.chosenConnectorId}>{r.chosenConnectorId}</strong> —{' '}
              {r.chosenReason}
              {r.holdUntil ? ` (held for quiet hours until ${time(r.holdUntil)})` : ''}
            </p>
          )}
          {r.candidates?.length ? (
            <Table label="dry run connectors">
              <thead>
                <tr>
                  <th>#</th>
                  <th>connector</th>
                  <th>price</th>
                  <th>why</th>
                </tr>
              </thead>
              <tbody>
                {r.candidates.map((c) => (
                  <tr key={c.connectorId}>
                    <td>{c.eligible ? c.position : '–'}</td>
                    <td>{c.connectorId}</td>
                    <td>{c.price ? money(c.price) : ''}</td>
                    <td>{c.reason}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : null}
        </div>
      ) : null}
    </>
  );
}

/** RoutingService.GetEstimates as JSON. */
interface EstimatesJ {
  estimates?: {
    connectorId?: string;
    destination?: string;
    trafficType?: string;
    samples?: number;
    deliveryProbability?: number;
    p95LatencyMs?: number;
    trusted?: boolean;
    price?: { currencyCode?: string; minorUnits?: string; scale?: number };
    deliveredPerUnit?: number;
    meetsLevel?: boolean;
    pinned?: boolean;
  }[];
  explorationShare?: number;
  pinnedConnectorId?: string;
}

/** The learnt estimates of an adaptive rule (for a destination: a network, a country or a number). */
function Estimates(props: { rules: RoutingRuleJ[] }) {
  const [rule, setRule] = useState('');
  const [destination, setDestination] = useState('');
  const [shown, setShown] = useState<{ rule: string; destination: string } | null>(null);
  const chosen = rule || props.rules[0]?.id || '';
  const res = useLoad(`estimates:${shown?.rule ?? ''}:${shown?.destination ?? ''}`, () =>
    shown
      ? api.get<EstimatesJ>(
          `/api/routing/estimates?rule=${encodeURIComponent(shown.rule)}&destination=${encodeURIComponent(shown.destination)}`,
        )
      : Promise.resolve(null),
  );
  if (props.rules.length === 0) return null;
  return (
    <>
      <h2>Learnt estimates (adaptive rules)</h2>
      <form
        class="edit"
        aria-label="learnt estimates"
        onSubmit={(e) => {
          e.preventDefault();
          setShown({ rule: chosen, destination });
        }}
      >
        <label>
          rule
          <select name="rule" value={chosen} onChange={(e) => setRule((e.target as HTMLSelectElement).value)}>
            {props.rules.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name || r.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          destination (network 234-30, country GB, or a number; empty = all)
          <input
            name="destination"
            value={destination}
            onInput={(e) => setDestination((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Show estimates</button>
      </form>
      <Problem error={res.error} />
      {res.data ? (
        <>
          <p class="sub">
            exploration {((res.data.explorationShare ?? 0) * 100).toFixed(1)}%
            {res.data.pinnedConnectorId ? `; pinned to ${res.data.pinnedConnectorId}` : ''}
          </p>
          <Table label="learnt estimates">
            <thead>
              <tr>
                <th>destination</th>
                <th>traffic</th>
                <th>connector</th>
                <th>P(deliver)</th>
                <th>samples</th>
                <th>p95 ms</th>
                <th>price</th>
                <th>delivered / unit</th>
                <th>meets level</th>
              </tr>
            </thead>
            <tbody>
              {(res.data.estimates ?? []).map((e) => (
                <tr key={`${e.destination}|${e.trafficType}|${e.connectorId}`}>
                  <td>{e.destination}</td>
                  <td>{enumName(e.trafficType, 'TRAFFIC_TYPE_')}</td>
                  <td>
                    {e.connectorId}
                    {e.pinned ? ' (pinned)' : ''}
                  </td>
                  <td>{((e.deliveryProbability ?? 0) * 100).toFixed(1)}%</td>
                  <td>
                    {(e.samples ?? 0).toFixed(1)}
                    {e.trusted ? '' : ' (prior)'}
                  </td>
                  <td>{e.p95LatencyMs ?? ''}</td>
                  <td>{e.price ? money(e.price) : ''}</td>
                  <td>{e.deliveredPerUnit === undefined ? '' : e.deliveredPerUnit.toFixed(1)}</td>
                  <td>{e.meetsLevel ? 'yes' : ''}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      ) : null}
    </>
  );
}

const STRATEGIES = ['PRIORITY', 'LEAST_COST', 'QUALITY', 'WEIGHTED', 'SCORE'];
const splitList = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** An optional boolean as a select's value. */
const triState = (v: boolean | undefined): string => (v === undefined ? 'default' : v ? 'on' : 'off');

/**
 * The form's re-route policy: omitted (the update mask then clears it: routing's defaults) when every
 * field is left at its default, so saving an untouched form stores what was there.
 */
function reroutePolicy(form: Record<string, string | boolean>): { reroute?: RoutingRuleJ['reroute'] } {
  const failures = splitList(String(form.rerouteFailures ?? '')).map((f) => f.toUpperCase());
  const exceptErrors = splitList(String(form.rerouteExceptErrors ?? ''));
  const windowS = String(form.rerouteWindowS ?? '').trim();
  const enabled = form.rerouteEnabled;
  if (enabled === 'default' && !failures.length && !exceptErrors.length && windowS === '') return {};
  return {
    reroute: {
      ...(enabled === 'default' ? {} : { enabled: enabled === 'on' }),
      failures,
      exceptErrors,
      ...(windowS === '' ? {} : { windowMs: Math.round(Number(windowS) * 1000) }),
    },
  };
}

export function RoutingRuleEdit(props: { id: string; session: SessionInfo }) {
  const res = useLoad('routing', () => api.get<Rules>('/api/routing'));
  const rule = res.data?.routingRules.find((r) => r.id === props.id);
  const [edits, setEdits] = useState<Record<string, string | boolean>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!rule) return <Problem error={res.error ?? (res.loading ? null : `no routing rule ${props.id}`)} />;
  // The form starts from the stored rule in the first render that has it (never an empty form a quick user
  // could save), and starts again from it when its revision changes.
  const revision = String(rule.revision ?? '');
  const form: Record<string, string | boolean> =
    edits.revision === revision
      ? edits
      : {
          revision,
          name: rule.name ?? '',
          priority: String(rule.priority ?? 0),
          enabled: Boolean(rule.enabled),
          destinationPrefixes: (rule.destinationPrefixes ?? []).join(', '),
          countries: (rule.countries ?? []).join(', '),
          strategy: String(rule.strategy ?? 'ROUTE_STRATEGY_PRIORITY').replace('ROUTE_STRATEGY_', ''),
          targets: (rule.targets ?? [])
            .map((t) => (t.weight ? `${t.connectorId}:${t.weight}` : t.connectorId))
            .join(', '),
          rerouteEnabled: triState(rule.reroute?.enabled),
          rerouteFailures: (rule.reroute?.failures ?? []).join(', '),
          rerouteExceptErrors: (rule.reroute?.exceptErrors ?? []).join(', '),
          rerouteWindowS:
            rule.reroute?.windowMs === undefined ? '' : String(Number(rule.reroute.windowMs) / 1000),
          demoteSuspected: triState(rule.demoteSuspected),
        };
  const set = (k: string) => (e: Event) => {
    const el = e.target as HTMLInputElement;
    setEdits({ ...form, [k]: el.type === 'checkbox' ? el.checked : el.value });
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.put(`/api/routing/rules/${encodeURIComponent(props.id)}`, {
        revision: rule.revision,
        fields: [
          'name',
          'priority',
          'enabled',
          'destination_prefixes',
          'countries',
          'strategy',
          'targets',
          'reroute',
          'demote_suspected',
        ],
        rule: {
          name: form.name,
          priority: Number(form.priority),
          enabled: form.enabled,
          destinationPrefixes: splitList(String(form.destinationPrefixes ?? '')),
          countries: splitList(String(form.countries ?? '')).map((c) => c.toUpperCase()),
          strategy: `ROUTE_STRATEGY_${form.strategy}`,
          targets: splitList(String(form.targets ?? '')).map((t) => {
            const [connectorId, weight] = t.split(':');
            return { connectorId, weight: weight ? Number(weight) : 0 };
          }),
          ...reroutePolicy(form),
          ...(form.demoteSuspected === 'default' ? {} : { demoteSuspected: form.demoteSuspected === 'on' }),
        },
      });
      navigate('/routing');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <p>
        <Link href="/routing">← routing</Link>
      </p>
      <h1>Edit routing rule {rule.name || rule.id}</h1>
      <form class="edit" onSubmit={save} aria-label="edit routing rule">
        <label>
          name
          <input name="name" value={String(form.name ?? '')} onInput={set('name')} />
        </label>
        <label>
          priority (lower first)
          <input
            name="priority"
            type="number"
            value={String(form.priority ?? '')}
            onInput={set('priority')}
          />
        </label>
        <label class="check">
          <input name="enabled" type="checkbox" checked={Boolean(form.enabled)} onChange={set('enabled')} />{' '}
          enabled
        </label>
        <label>
          destination prefixes (digits, comma-separated; empty = any)
          <input
            name="destinationPrefixes"
            value={String(form.destinationPrefixes ?? '')}
            onInput={set('destinationPrefixes')}
          />
        </label>
        <label>
          countries (ISO codes; empty = any)
          <input name="countries" value={String(form.countries ?? '')} onInput={set('countries')} />
        </label>
        <label>
          strategy
          <select name="strategy" value={String(form.strategy ?? '')} onChange={set('strategy')}>
            {STRATEGIES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase().replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          targets (connector ids in order; connector:weight for weighted)
          <input name="targets" value={String(form.targets ?? '')} onInput={set('targets')} />
        </label>
        <fieldset>
          <legend>Re-routing of fast failures</legend>
          <label>
            re-route
            <select
              name="rerouteEnabled"
              value={String(form.rerouteEnabled)}
              onChange={set('rerouteEnabled')}
            >
              <option value="default">default (on for OTP and transactional traffic)</option>
              <option value="on">on</option>
              <option value="off">off</option>
            </select>
          </label>
          <label>
            failures that re-route (UNDELIV, REJECTD or UNDELIV:069; empty = UNDELIV, REJECTD)
            <input
              name="rerouteFailures"
              value={String(form.rerouteFailures ?? '')}
              onInput={set('rerouteFailures')}
            />
          </label>
          <label>
            receipt errors that never re-route (3 digits; empty = none)
            <input
              name="rerouteExceptErrors"
              value={String(form.rerouteExceptErrors ?? '')}
              onInput={set('rerouteExceptErrors')}
            />
          </label>
          <label>
            window after the supplier's acceptance, seconds (1-600; empty = 30)
            <input
              name="rerouteWindowS"
              type="number"
              min="1"
              max="600"
              value={String(form.rerouteWindowS ?? '')}
              onInput={set('rerouteWindowS')}
            />
          </label>
        </fieldset>
        <label>
          suspected grey routes
          <select
            name="demoteSuspected"
            value={String(form.demoteSuspected)}
            onChange={set('demoteSuspected')}
          >
            <option value="default">default (demoted for OTP traffic)</option>
            <option value="on">demoted to the end of the candidates</option>
            <option value="off">not demoted</option>
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Save
        </button>
        <Problem error={error} />
      </form>
    </section>
  );
}
