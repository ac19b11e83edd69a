// Settlement totals per day (or month) and party, and the CSV export of the same query.
import { useState } from 'preact/hooks';
import { api, qs } from '../api';
import { money, num } from '../format';
import { useLoad } from '../hooks';
import { navigate, useLocation } from '../router';
import type { SettlementTotalJ } from '../types';
import { Problem, Table } from '../ui';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

export function Settlement() {
  const loc = useLocation();
  const q = {
    party: loc.query.get('party') ?? 'customer',
    from: loc.query.get('from') ?? day(-6),
    to: loc.query.get('to') ?? day(1),
    period: loc.query.get('period') ?? 'day',
  };
  const [form, setForm] = useState(q);
  const res = useLoad(`set:${JSON.stringify(q)}`, () =>
    api.get<{ totals: SettlementTotalJ[] }>(`/api/settlement${qs(q)}`),
  );
  const set = (k: keyof typeof q) => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  return (
    <section>
      <h1>Settlement</h1>
      <form
        class="search"
        aria-label="settlement query"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/settlement${qs(form)}`);
        }}
      >
        <label>
          party
          <select name="party" value={form.party} onChange={set('party')}>
            <option value="customer">customers (revenue)</option>
            <option value="supplier">suppliers (cost)</option>
          </select>
        </label>
        <label>
          from
          <input name="from" type="date" value={form.from} onInput={set('from')} />
        </label>
        <label>
          to (exclusive)
          <input name="to" type="date" value={form.to} onInput={set('to')} />
        </label>
        <label>
          per
          <select name="period" value={form.period} onChange={set('period')}>
            <option value="day">day</option>
            <option value="month">month</option>
          </select>
        </label>
        <button type="submit">Show</button>
        <a class="button" href={`/api/settlement.csv${qs(q)}`} download>
          Export CSV
        </a>
      </form>
      <Problem error={res.error} />
      <Table label="settlement totals">
        <thead>
          <tr>
            <th>{q.period}</th>
            <th>{q.party}</th>
            <th>messages</th>
            <th>segments</th>
            <th>amount</th>
            <th>margin</th>
          </tr>
        </thead>
        <tbody>
          {(res.data?.totals ?? []).map((t, i) => (
            <tr key={i}>
              <td>{(t.periodStart ?? '').slice(0, q.period === 'month' ? 7 : 10)}</td>
              <td>{t.partyId}</td>
              <td>{num(t.messages)}</td>
              <td>{num(t.segments)}</td>
              <td>{money(t.amount)}</td>
              <td>{money(t.margin)}</td>
            </tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}
