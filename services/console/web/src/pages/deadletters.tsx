// Dead letters: the consumer groups holding records they could not process (<group>.dlq), one group's
// letters newest first (where each came from, why it failed, its message id and size; never the text),
// and replay into that group only, one letter or all, after a confirmation. Admin and operations.
import { useState } from 'preact/hooks';
import { api, ApiError, qs, type SessionInfo } from '../api';
import { num, time } from '../format';
import { useLoad } from '../hooks';
import { navigate, useLocation } from '../router';
import type { DeadLetterGroupJ, DeadLetterJ, ReplayResultJ } from '../types';
import { Link, Problem, Table } from '../ui';

function Confirm(props: { text: string; onYes: () => void; onNo: () => void }) {
  return (
    <div class="modal" role="dialog" aria-modal="true" aria-label="confirm">
      <div class="modal-box">
        <p>{props.text}</p>
        <div class="modal-actions">
          <button class="danger" onClick={props.onYes}>
            Replay
          </button>
          <button onClick={props.onNo}>Cancel</button>
        </div>
      </div>
    </div>
  );
}

// The group goes in the query, not the path: group names hold dots (the namespace), and a path with a dot
// is taken for a file by the console's asset server.
const href = (group: string, before?: string) => `/deadletters${qs({ group, before })}`;

export function DeadLetters(props: { group: string | undefined; session: SessionInfo }) {
  const loc = useLocation();
  const group = props.group ?? loc.query.get('group') ?? '';
  return group ? <GroupLetters group={group} session={props.session} /> : <Groups />;
}

function Groups() {
  const res = useLoad(
    'deadletter-groups',
    () => api.get<{ groups?: DeadLetterGroupJ[] }>('/api/deadletters'),
    15_000,
  );
  const groups = res.data?.groups ?? [];
  return (
    <section>
      <h1>Dead letters</h1>
      <p class="sub">
        Records a consumer group could not process, kept 30 days in &lt;group&gt;.dlq. A replay hands them to
        that group only, once the fault is fixed.
      </p>
      <Problem error={res.error} />
      {res.data && groups.length === 0 ? <p role="status">No consumer group holds dead letters.</p> : null}
      {groups.length > 0 ? (
        <Table label="dead-letter groups">
          <thead>
            <tr>
              <th>group</th>
              <th>dead letters</th>
              <th>replayed</th>
              <th>oldest</th>
              <th>newest</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.group}>
                <td>
                  <Link href={href(g.group ?? '')}>{g.group}</Link>
                </td>
                <td>{num(g.count)}</td>
                <td>{num(g.replayed)}</td>
                <td>{time(g.oldestTime)}</td>
                <td>{time(g.newestTime)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </section>
  );
}

type Ask = { kind: 'one'; letter: DeadLetterJ } | { kind: 'all'; count: string };

function GroupLetters(props: { group: string; session: SessionInfo }) {
  const loc = useLocation();
  const before = loc.query.get('before') ?? '';
  const url = `/api/deadletters/${encodeURIComponent(props.group)}${qs({ before })}`;
  const res = useLoad(url, () =>
    api.get<{ deadLetters?: DeadLetterJ[]; nextOffset?: string; group?: DeadLetterGroupJ }>(url),
  );
  const [ask, setAsk] = useState<Ask | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mayReplay = props.session.actions.includes('deadletters.replay');
  const letters = res.data?.deadLetters ?? [];
  const held = res.data?.group?.count ?? '0';
  const next = res.data?.nextOffset;

  const replay = async (a: Ask, force: boolean) => {
    setAsk(null);
    setError(null);
    setDone(null);
    try {
      const body = a.kind === 'one' ? { offset: a.letter.offset ?? '0', force } : { all: true, force };
      const r = await api.post<ReplayResultJ>(
        `/api/deadletters/${encodeURIComponent(props.group)}/replay`,
        body,
      );
      const skipped = Number(r.alreadyReplayedCount ?? 0);
      setDone(
        `Replayed ${num(r.replayed ?? 0)} to ${r.replayTopic ?? ''}` +
          (skipped > 0 ? `; ${num(skipped)} replayed before were skipped.` : '.'),
      );
      res.reload();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  return (
    <section>
      <p>
        <Link href="/deadletters">← all groups</Link>
      </p>
      <h1>Dead letters of {props.group}</h1>
      <p class="sub">
        {num(held)} held, {num(res.data?.group?.replayed ?? 0)} replayed. Newest first.
      </p>
      {mayReplay && letters.length > 0 ? (
        <button class="danger" onClick={() => setAsk({ kind: 'all', count: held })}>
          Replay all
        </button>
      ) : null}
      {done ? <p role="status">{done}</p> : null}
      <Problem error={error ?? res.error} />
      {res.data && letters.length === 0 ? <p role="status">This group holds no dead letters.</p> : null}
      {letters.length > 0 ? (
        <Table label="dead letters">
          <thead>
            <tr>
              <th>offset</th>
              <th>failed at</th>
              <th>from</th>
              <th>error</th>
              <th>attempts</th>
              <th>message id</th>
              <th>size</th>
              <th>replayed</th>
              {mayReplay ? <th /> : null}
            </tr>
          </thead>
          <tbody>
            {letters.map((d) => (
              <tr key={d.offset ?? '0'}>
                <td>{d.offset ?? '0'}</td>
                <td>{time(d.failedAt)}</td>
                <td>
                  {d.sourceTopic}
                  <div class="sub">
                    partition {d.sourcePartition ?? 0}, offset {d.sourceOffset ?? '0'}
                    {d.replica ? ` · ${d.replica}` : ''}
                  </div>
                </td>
                <td>
                  {d.errorType ? <strong>{d.errorType}</strong> : null} {d.errorMessage}
                </td>
                <td>{d.attempts ?? 0}</td>
                <td>
                  {d.messageId ? (
                    <Link href={`/messages/${encodeURIComponent(d.messageId)}`}>{d.messageId}</Link>
                  ) : null}
                  {d.decodable ? null : <div class="sub">undecodable · key {d.key}</div>}
                </td>
                <td>{num(d.size ?? 0)} B</td>
                <td>{d.replayedAt ? `${time(d.replayedAt)} by ${d.replayedBy ?? ''}` : '—'}</td>
                {mayReplay ? (
                  <td>
                    <button onClick={() => setAsk({ kind: 'one', letter: d })}>Replay</button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {next && next !== '-1' ? (
        <p>
          <button onClick={() => navigate(href(props.group, next))}>Older</button>
        </p>
      ) : null}
      {ask ? (
        <Confirm
          text={
            ask.kind === 'one'
              ? `Replay dead letter ${ask.letter.offset ?? '0'} (${ask.letter.messageId || ask.letter.key || 'no message id'}) into ${props.group}?` +
                (ask.letter.replayedAt ? ' It was replayed before: it is handed to the group again.' : '')
              : `Replay all ${num(ask.count)} dead letters into ${props.group}? Those replayed before are skipped.`
          }
          onYes={() => void replay(ask, ask.kind === 'one' && Boolean(ask.letter.replayedAt))}
          onNo={() => setAsk(null)}
        />
      ) : null}
    </section>
  );
}
