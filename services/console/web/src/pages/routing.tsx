// Routing and firewall rules, and editing a routing rule: the admin API validates every change (the same
// validation as hubctl), and its message is shown as is.
import { useState } from 'preact/hooks';
import { api, ApiError, type SessionInfo } from '../api';
import { enumName } from '../format';
import { useLoad } from '../hooks';
import { navigate } from '../router';
import type { FirewallRuleJ, RoutingRuleJ } from '../types';
import { Link, Problem, Table } from '../ui';

interface Rules {
  routingRules: RoutingRuleJ[];
  firewallRules: FirewallRuleJ[];
}

const list = (xs: unknown[] | undefined) => (xs && xs.length ? xs.join(', ') : 'any');

export function Routing(props: { session: SessionInfo }) {
  const res = useLoad('routing', () => api.get<Rules>('/api/routing'));
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
              <td>
                {canEdit ? (
                  <button onClick={() => toggleFirewall(r)}>{r.enabled ? 'Disable' : 'Enable'}</button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}

const STRATEGIES = ['PRIORITY', 'LEAST_COST', 'QUALITY', 'WEIGHTED', 'SCORE'];
const splitList = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

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
        fields: ['name', 'priority', 'enabled', 'destination_prefixes', 'countries', 'strategy', 'targets'],
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
        <button type="submit" disabled={busy}>
          Save
        </button>
        <Problem error={error} />
      </form>
    </section>
  );
}
