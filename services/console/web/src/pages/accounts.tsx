// Accounts: the list, and one account's traffic (last 24 h), balance, credit limit, top-ups and limits.
import { useState } from 'preact/hooks';
import { api, ApiError, qs, type SessionInfo } from '../api';
import { enumName, money, ms, num, ratio, time } from '../format';
import { useLoad } from '../hooks';
import type { AccountJ, BalanceJ, StatsSummaryJ, TopUpJ } from '../types';
import { Card, Link, Problem, Table } from '../ui';

export function Accounts() {
  const res = useLoad('accounts', () => api.get<{ accounts: AccountJ[] }>('/api/accounts'));
  return (
    <section>
      <h1>Accounts</h1>
      <Problem error={res.error} />
      <Table label="accounts">
        <thead>
          <tr>
            <th>account</th>
            <th>state</th>
            <th>billing</th>
            <th>currency</th>
            <th>SMPP system ids</th>
          </tr>
        </thead>
        <tbody>
          {(res.data?.accounts ?? []).map((a) => (
            <tr key={a.id}>
              <td>
                <Link href={`/accounts/${encodeURIComponent(a.id ?? '')}`}>{a.name || a.id}</Link>
                <div class="sub">{a.id}</div>
              </td>
              <td>{enumName(a.state, 'ACCOUNT_STATE_')}</td>
              <td>{enumName(a.billingMode, 'BILLING_MODE_')}</td>
              <td>{a.currencyCode}</td>
              <td>
                {(a.smppCredentials ?? []).map((c) => (c as { systemId?: string }).systemId).join(', ')}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}

interface Detail {
  account: AccountJ | null;
  balance: BalanceJ | null;
  topUps: TopUpJ[];
}

function MoneyForm(props: {
  label: string;
  currency: string;
  url: string;
  withReference?: boolean;
  done: () => void;
}) {
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState('');
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [msg, setMsg] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMsg(null);
    try {
      await api.post(props.url, { amount, currency: props.currency, reference, idempotencyKey: key });
      setAmount('');
      setReference('');
      setKey(crypto.randomUUID());
      props.done();
    } catch (err) {
      setMsg(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline" onSubmit={submit} aria-label={props.label}>
      <label>
        {props.label} ({props.currency})
        <input
          inputMode="decimal"
          pattern="\d+(\.\d{1,6})?"
          value={amount}
          required
          onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
        />
      </label>
      {props.withReference ? (
        <label>
          reference
          <input value={reference} onInput={(e) => setReference((e.target as HTMLInputElement).value)} />
        </label>
      ) : null}
      <button type="submit" disabled={busy}>
        {props.label}
      </button>
      <Problem error={msg} />
    </form>
  );
}

export function AccountDetail(props: { id: string; session: SessionInfo }) {
  const res = useLoad(`acc:${props.id}`, () =>
    api.get<Detail>(`/api/accounts/${encodeURIComponent(props.id)}`),
  );
  const traffic = useLoad(`acct:${props.id}`, () =>
    api.get<StatsSummaryJ>(`/api/stats/summary${qs({ account: props.id, minutes: 1440 })}`),
  );
  const a = res.data?.account;
  const b = res.data?.balance;
  const t = traffic.data?.values;
  const can = (x: string) => props.session.actions.includes(x as never);
  const currency = a?.currencyCode ?? 'EUR';
  return (
    <section>
      <p>
        <Link href="/accounts">← accounts</Link>
      </p>
      <h1>Account {a?.name ?? props.id}</h1>
      <Problem error={res.error} />
      <h2>Traffic, last 24 h</h2>
      <Problem error={traffic.error} />
      <div class="cards">
        <Card label="submitted" value={num(t?.submitted)} />
        <Card label="delivered" value={num(t?.delivered)} />
        <Card label="delivery ratio" value={ratio(t?.deliveryRatioPpm)} />
        <Card label="rejected" value={num(t?.rejected)} />
        <Card label="latency p95" value={ms(t?.latencyP95Ms)} />
        {can('money.read')
          ? (t?.money ?? []).map((m) => (
              <Card
                key={m.currencyCode}
                label={`revenue ${m.currencyCode}`}
                value={money(m.revenue)}
                hint={`margin ${money(m.margin)}`}
              />
            ))
          : null}
      </div>
      {can('money.read') ? (
        <>
          <h2>Balance</h2>
          {b ? (
            <div class="cards">
              <Card label="balance" value={money(b.balance)} />
              <Card label="credit limit" value={money(b.creditLimit)} />
              <Card
                label="available"
                value={money(b.available)}
                hint={b.blocked ? 'BLOCKED: traffic refused' : undefined}
              />
            </div>
          ) : (
            <p>No balance (postpaid or not rated yet).</p>
          )}
          {can('accounts.topup') ? (
            <MoneyForm
              label="Top up"
              currency={currency}
              withReference
              url={`/api/accounts/${encodeURIComponent(props.id)}/topups`}
              done={res.reload}
            />
          ) : null}
          {can('accounts.credit') ? (
            <MoneyForm
              label="Set credit limit"
              currency={currency}
              url={`/api/accounts/${encodeURIComponent(props.id)}/credit-limit`}
              done={res.reload}
            />
          ) : null}
          <h2>Top-ups</h2>
          <Table label="top-ups">
            <thead>
              <tr>
                <th>time</th>
                <th>amount</th>
                <th>reference</th>
                <th>by</th>
              </tr>
            </thead>
            <tbody>
              {(res.data?.topUps ?? []).map((x) => (
                <tr key={x.id}>
                  <td>{time(x.createdAt)}</td>
                  <td>{money(x.amount)}</td>
                  <td>{x.reference}</td>
                  <td>{x.actor}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      ) : null}
      {a ? (
        <>
          <h2>Settings and limits</h2>
          <dl class="facts">
            <dt>state</dt>
            <dd>{enumName(a.state, 'ACCOUNT_STATE_')}</dd>
            <dt>billing</dt>
            <dd>{enumName(a.billingMode, 'BILLING_MODE_')}</dd>
            <dt>routing group</dt>
            <dd>{a.routingGroup || '—'}</dd>
            <dt>allowed senders</dt>
            <dd>{(a.allowedSources ?? []).join(', ') || 'any'}</dd>
            <dt>default validity</dt>
            <dd>{a.defaultValiditySeconds ? `${a.defaultValiditySeconds} s` : 'hub default'}</dd>
            <dt>updated</dt>
            <dd>{time(a.updatedAt)}</dd>
          </dl>
          <h3>SMPP credentials</h3>
          <pre class="json">{JSON.stringify(a.smppCredentials ?? [], null, 2)}</pre>
        </>
      ) : null}
    </section>
  );
}
