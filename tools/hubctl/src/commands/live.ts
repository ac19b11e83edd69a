// Live operations: `connectors status` (each connector's sessions, window, TPS and throttling on every
// egress replica, stale ones marked), `lag` (the consumer groups' backlog) and `whoami` (the token in use).
// Admin, operations and finance (whoami: every role).
import { Command } from 'commander';
import {
  ListConnectorStatesRequest,
  ListConnectorStatesResponse,
  ListConsumerLagRequest,
  ListConsumerLagResponse,
  SessionBindState,
  WhoAmIRequest,
  WhoAmIResponse,
  type ConnectorLiveState,
  type ConsumerGroupLag,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { keyValueTable, listTable } from '../output.js';

const PHASE: Record<number, string> = {
  [SessionBindState.SESSION_BIND_STATE_BOUND]: 'bound',
  [SessionBindState.SESSION_BIND_STATE_BINDING]: 'binding',
  [SessionBindState.SESSION_BIND_STATE_UNBOUND]: 'unbound',
};

/** "bound 2m", "unbound 5s": a session's state and for how long (pure). */
export function sessionText(state: number, since: Date | undefined, now: Date): string {
  const name = PHASE[state] ?? 'unknown';
  if (!since) return name;
  const s = Math.max(0, Math.round((now.getTime() - since.getTime()) / 1000));
  const d = s >= 3600 ? `${Math.floor(s / 3600)}h` : s >= 60 ? `${Math.floor(s / 60)}m` : `${s}s`;
  return `${name} ${d}`;
}

interface Row {
  connector: string;
  replica: string;
  sessions: string;
  window: string;
  tps: string;
  throttled: number;
  failovers: number;
  lastError: string;
}

/** One line per connector and replica (pure). */
export function statusRows(connectors: readonly ConnectorLiveState[], now: Date): Row[] {
  const rows: Row[] = [];
  for (const c of connectors) {
    for (const r of c.replicas) {
      const s = r.state!;
      const capacity = s.windowSize * s.sessions.filter((x) => x.bindType !== 'receiver').length;
      rows.push({
        connector: c.connectorId,
        replica: r.stale ? `${s.replicaId} (stale ${Math.round(r.ageMs / 1000)}s)` : s.replicaId,
        sessions:
          s.sessions
            .map((x) => `${x.bindType.slice(0, 3)}#${x.index} ${sessionText(x.state, x.since, now)}`)
            .join(', ') || (s.enabled ? 'none' : 'disabled'),
        window: `${s.windowInUse}/${capacity}`,
        tps: `${s.submitsPerSecond}/${s.maxSubmitRate}`,
        throttled: s.throttledLastMinute,
        failovers: s.failoversLastMinute,
        lastError: s.lastError,
      });
    }
  }
  return rows;
}

export function groupRows(groups: readonly ConsumerGroupLag[]) {
  return groups.map((g) => ({
    group: g.group,
    state: g.state,
    members: g.members,
    lag: g.lag,
    topics: g.topics.map((t) => `${t.topic} ${t.lag}`).join(', '),
  }));
}

export function liveCommands(session: Session, program: Command): void {
  const connectors =
    program.commands.find((c) => c.name() === 'connectors') ??
    program.command('connectors').description('SMPP connectors to suppliers');
  connectors
    .command('status')
    .description(
      'live state on every egress replica: sessions (bound/binding/unbound, since), window in use, submits/s against max_submit_rate, throttled responses and failovers in the last minute; a replica silent for 3 report intervals is marked stale',
    )
    .argument('[id]', 'only this connector')
    .action(async (id: string | undefined, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'listConnectorStates',
        ListConnectorStatesRequest.fromPartial({ connectorId: id ?? '' }),
      );
      ctx.emit(ListConnectorStatesResponse.toJSON(res), () => {
        const rows = statusRows(res.connectors, new Date());
        const table = listTable(
          rows,
          [
            { header: 'CONNECTOR', value: (r) => r.connector },
            { header: 'REPLICA', value: (r) => r.replica },
            { header: 'SESSIONS', value: (r) => r.sessions },
            { header: 'WINDOW', value: (r) => r.window },
            { header: 'TPS/MAX', value: (r) => r.tps },
            { header: 'THROTTLED/1m', value: (r) => String(r.throttled) },
            { header: 'FAILOVERS/1m', value: (r) => String(r.failovers) },
            { header: 'LAST ERROR', value: (r) => r.lastError },
          ],
          'connector state (no egress replica has reported)',
        );
        return res.caughtUp ? table : `${table}(admin is still reading the connector state topic)\n`;
      });
    });

  program
    .command('lag')
    .description("consumer lag of the hub's consumer groups on their input topics, the worst first")
    .argument('[groups...]', 'only these groups (without the KAFKA_NAMESPACE prefix)')
    .action(async (groups: string[], _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'listConsumerLag',
        ListConsumerLagRequest.fromPartial({ groups }),
      );
      ctx.emit(ListConsumerLagResponse.toJSON(res), () => {
        const table = listTable(
          groupRows(res.groups),
          [
            { header: 'GROUP', value: (r) => r.group },
            { header: 'STATE', value: (r) => r.state },
            { header: 'MEMBERS', value: (r) => String(r.members) },
            { header: 'LAG', value: (r) => String(r.lag) },
            { header: 'TOPICS', value: (r) => r.topics },
          ],
          'consumer groups',
        );
        return `${table}total lag ${res.totalLag}\n`;
      });
    });

  program
    .command('whoami')
    .description(
      'the token in use: its kind, role, account (customer tokens), id, name, expiry and permissions',
    )
    .action(async (_f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('admin', 'whoAmI', WhoAmIRequest.fromPartial({}));
      const json = WhoAmIResponse.toJSON(res) as Record<string, unknown>;
      ctx.emit(json, () => keyValueTable(json));
    });
}
