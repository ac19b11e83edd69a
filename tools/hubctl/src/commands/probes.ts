// Grey-route probes (admin's ProbeService; docs/routing.md "Grey routes"): the probe numbers routing
// sends test messages to through each connector, the probes and what came back, and clearing a suspected
// connector. Reads: config.read; writes: config.write.
import { Command } from 'commander';
import {
  ClearSuspicionRequest,
  ClearSuspicionResponse,
  DeleteProbeTargetRequest,
  ListProbesRequest,
  ListProbesResponse,
  ListProbeTargetsRequest,
  ListProbeTargetsResponse,
  SetProbeTargetRequest,
  SetProbeTargetResponse,
  type Probe,
  type ProbeTarget,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { listTable } from '../output.js';
import { parseIntFlag } from '../values.js';

const time = (d: Date | undefined): string => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

/** The targets table (pure). */
export function targetsTable(targets: readonly ProbeTarget[]): string {
  return listTable(
    targets,
    [
      { header: 'ID', value: (t) => t.id },
      { header: 'CONNECTOR', value: (t) => t.connectorId },
      { header: 'NUMBER', value: (t) => `+${t.number}` },
      { header: 'DESTINATION', value: (t) => t.destination },
      { header: 'EVERY', value: (t) => `${t.intervalS}s` },
      { header: 'ENABLED', value: (t) => (t.enabled ? 'yes' : 'no') },
      { header: 'ACCOUNT', value: (t) => t.accountId || '(default)' },
      { header: 'SENDER', value: (t) => t.sender || '(default)' },
      { header: 'NEXT', value: (t) => time(t.nextAt) },
    ],
    'probe targets',
  );
}

/** What a probe showed, in words (pure): confirmed, late, no confirmation, failed, waiting. */
export function probeState(p: Probe): string {
  if (p.receiptStatus !== '' && p.receiptStatus !== 'DELIVERED') return `failed (${p.receiptStatus})`;
  if (p.confirmedAt) {
    if (p.receiptAt) {
      const s = (p.confirmedAt.getTime() - p.receiptAt.getTime()) / 1000;
      return s > 0 ? `confirmed ${s.toFixed(1)} s after the receipt` : 'confirmed';
    }
    return 'confirmed';
  }
  return p.receiptStatus === 'DELIVERED' ? 'DELIVRD, no confirmation (yet)' : 'waiting for the receipt';
}

/** The probes table (pure). */
export function probesTable(probes: readonly Probe[]): string {
  return listTable(
    probes,
    [
      { header: 'SENT', value: (p) => time(p.sentAt) },
      { header: 'CONNECTOR', value: (p) => p.connectorId },
      { header: 'TARGET', value: (p) => p.targetId },
      { header: 'MESSAGE ID', value: (p) => p.messageId },
      { header: 'STATE', value: probeState },
    ],
    'probes',
  );
}

export function probeCommands(session: Session, program: Command): void {
  const cmd = program
    .command('probes')
    .description(
      'grey-route probes: probe numbers per connector, the probes sent and what came back, clearing a suspected connector',
    );

  cmd
    .command('set')
    .description(
      'create or replace a probe target: probes pinned to <connector>, to the probe handset <number>',
    )
    .argument('<id>', 'target id')
    .requiredOption('--connector <id>', 'connector the probes go through')
    .requiredOption('--number <e164>', "the probe handset's number")
    .option('--destination <prefix>', 'destination prefix the target stands for', '')
    .option('--every <seconds>', 'seconds between probes (1..86400)', '60')
    .option('--disabled', 'store it without sending probes')
    .option(
      '--account <id>',
      'internal account the probes are sent as (default: ROUTING_PROBE_ACCOUNT_ID)',
      '',
    )
    .option('--sender <number>', 'hub number the handset answers to (default: ROUTING_PROBE_SENDER)', '')
    .action(
      async (
        id: string,
        f: {
          connector: string;
          number: string;
          destination: string;
          every: string;
          disabled?: boolean;
          account: string;
          sender: string;
        },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const res = await ctx.rpc.unary(
          'admin',
          'setProbeTarget',
          SetProbeTargetRequest.fromPartial({
            target: {
              id,
              connectorId: f.connector,
              number: f.number,
              destination: f.destination,
              intervalS: parseIntFlag(f.every, '--every', 1, 86_400),
              enabled: f.disabled !== true,
              accountId: f.account,
              sender: f.sender,
            },
          }),
        );
        ctx.emit(SetProbeTargetResponse.toJSON(res), () => targetsTable(res.target ? [res.target] : []));
      },
    );

  cmd
    .command('targets')
    .description('every probe target')
    .action(async (_f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary('admin', 'listProbeTargets', ListProbeTargetsRequest.fromPartial({}));
      ctx.emit(ListProbeTargetsResponse.toJSON(res), () => targetsTable(res.targets));
    });

  cmd
    .command('delete')
    .description('delete a probe target (its probes stay as evidence)')
    .argument('<id>', 'target id')
    .action(async (id: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      await ctx.rpc.unary('admin', 'deleteProbeTarget', DeleteProbeTargetRequest.fromPartial({ id }));
      ctx.emit({ deleted: id }, () => `deleted probe target ${id}\n`);
    });

  cmd
    .command('list')
    .description('the newest probes and what came back (receipt, handset confirmation)')
    .option('--connector <id>', 'one connector only', '')
    .option('--limit <n>', 'at most this many (1..1000)', '50')
    .action(async (f: { connector: string; limit: string }, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'listProbes',
        ListProbesRequest.fromPartial({
          connectorId: f.connector,
          limit: parseIntFlag(f.limit, '--limit', 1, 1000),
        }),
      );
      ctx.emit(ListProbesResponse.toJSON(res), () => probesTable(res.probes));
    });

  cmd
    .command('clear')
    .description(
      "clear a connector's grey-route suspicion: evidence before now no longer counts; routing publishes the clear within a tick",
    )
    .argument('<connector>', 'connector id')
    .action(async (connector: string, _f: unknown, c: Command) => {
      const ctx = session.ctx(c);
      const res = await ctx.rpc.unary(
        'admin',
        'clearSuspicion',
        ClearSuspicionRequest.fromPartial({ connectorId: connector }),
      );
      ctx.emit(ClearSuspicionResponse.toJSON(res), () => `cleared ${connector} at ${time(res.clearedAt)}\n`);
    });
}
