// Message search (hub id, customer id, account, number, time) and one message's cross-service timeline.
// The search form lives in the URL's query: a search is a deep link and the back button returns to it.
import { useState } from 'preact/hooks';
import { api, qs } from '../api';
import { enumName, time } from '../format';
import { useLoad } from '../hooks';
import { navigate, useLocation } from '../router';
import type { MessageViewJ, SummaryJ } from '../types';
import { Link, Problem, Table } from '../ui';

const FIELDS = [
  ['id', 'hub message id'],
  ['customerId', 'customer message id'],
  ['account', 'account'],
  ['to', 'number (or prefix)'],
  ['from', 'from (UTC)'],
  ['until', 'until (UTC)'],
] as const;

const status = (s: SummaryJ) => enumName(s.status, 'DELIVERY_STATUS_');

export function Messages() {
  const loc = useLocation();
  const query = Object.fromEntries(FIELDS.map(([k]) => [k, loc.query.get(k) ?? '']));
  const [form, setForm] = useState<Record<string, string>>(query);
  const searched = FIELDS.some(([k]) => query[k]);
  const key = loc.query.toString();
  const res = useLoad(`m:${key}`, () =>
    searched
      ? api.get<{ messages: SummaryJ[]; nextPageToken: string; truncated?: boolean }>(
          `/api/messages${qs(query)}`,
        )
      : Promise.resolve(null),
  );
  const submit = (e: Event) => {
    e.preventDefault();
    navigate(`/messages${qs(form)}`);
  };
  return (
    <section>
      <h1>Messages</h1>
      <form class="search" onSubmit={submit} aria-label="message search">
        {FIELDS.map(([k, label]) => (
          <label key={k}>
            {label}
            {k === 'from' || k === 'until' ? (
              <input
                name={k}
                type="datetime-local"
                value={form[k]}
                onInput={(e) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })}
              />
            ) : (
              <input
                name={k}
                type="text"
                value={form[k]}
                onInput={(e) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })}
              />
            )}
          </label>
        ))}
        <button type="submit">Search</button>
      </form>
      <Problem error={res.error} />
      {searched && res.data ? (
        res.data.messages.length === 0 ? (
          <p>No message matches.</p>
        ) : (
          <>
            {res.data.truncated ? (
              <p class="hint">
                The newest {res.data.messages.length} matches of every account; name an account to see more.
              </p>
            ) : null}
            <Table label="messages">
              <thead>
                <tr>
                  <th>received</th>
                  <th>message</th>
                  <th>account</th>
                  <th>to</th>
                  <th>status</th>
                  <th>connector</th>
                </tr>
              </thead>
              <tbody>
                {res.data.messages.map((m) => (
                  <tr key={m.context?.messageId}>
                    <td>{time(m.context?.receivedAt)}</td>
                    <td>
                      <Link href={`/messages/${encodeURIComponent(m.context?.messageId ?? '')}`}>
                        {m.context?.messageId}
                      </Link>
                    </td>
                    <td>{m.context?.accountId}</td>
                    <td>+{m.context?.destination?.address}</td>
                    <td>
                      <span class={`pill s-${status(m).replace(/ /g, '-')}`}>{status(m)}</span>
                    </td>
                    <td>{m.connectorId || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          </>
        )
      ) : null}
    </section>
  );
}

export function MessageDetail(props: { id: string }) {
  const res = useLoad(`msg:${props.id}`, () =>
    api.get<MessageViewJ>(`/api/messages/${encodeURIComponent(props.id)}`),
  );
  const m = res.data?.summary;
  const c = m?.context;
  return (
    <section>
      <p>
        <a href="#" onClick={(e) => (e.preventDefault(), window.history.back())}>
          ← back
        </a>
      </p>
      <h1>Message {props.id}</h1>
      <Problem error={res.error} />
      {m ? (
        <dl class="facts">
          <dt>status</dt>
          <dd data-testid="status">
            {status(m)}
            {m.final ? ' (final)' : ''}
          </dd>
          <dt>account</dt>
          <dd>
            <Link href={`/accounts/${encodeURIComponent(c?.accountId ?? '')}`}>{c?.accountId}</Link>
          </dd>
          <dt>from → to</dt>
          <dd>
            {c?.source?.address} → +{c?.destination?.address}
          </dd>
          <dt>customer id</dt>
          <dd>{c?.customerMessageId || '—'}</dd>
          <dt>connector</dt>
          <dd>{m.connectorId || '—'}</dd>
          <dt>segments</dt>
          <dd>{m.segments ?? 0}</dd>
          <dt>received / done</dt>
          <dd>
            {time(c?.receivedAt)} / {time(m.doneAt)}
          </dd>
        </dl>
      ) : null}
      <h2>Timeline</h2>
      <ol class="timeline" aria-label="timeline">
        {(res.data?.timeline ?? []).map((e, i) => (
          <li key={i} data-kind={e.kind}>
            <div class="t-time">{time(e.time)}</div>
            <div class="t-kind">{e.kind}</div>
            <div class="t-summary">{e.summary}</div>
            <details>
              <summary>{e.topic}</summary>
              <pre>{JSON.stringify(e.detail, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
