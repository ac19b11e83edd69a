// Routing's own API: a dry run ("where would this message go and why") and the adaptive strategy's learnt
// estimates (RoutingService on a routing replica), and rule hit counts (StatsService.GetRuleHits).
import type { Command } from 'commander';
import {
  DryRunRequest,
  DryRunResponse,
  GetEstimatesRequest,
  GetEstimatesResponse,
  GetRuleHitsRequest,
  GetRuleHitsResponse,
  TrafficType,
  type CandidateConnector,
  type Estimate,
  type RuleHits,
} from '@smshub/contracts';
import type { Session } from '../context.js';
import { keyValueTable, listTable } from '../output.js';
import { formatMoney, parseDuration, parseEnum, parseTime } from '../values.js';
import { CliError, EXIT } from '../exit-codes.js';

const traffic = (t: TrafficType) => (TrafficType[t] ?? '').replace(/^TRAFFIC_TYPE_/, '').toLowerCase();
const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
const time = (d: Date | undefined) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '');

/** The dry run as people read it: the verdict, then every connector of the matched rule. */
export function dryRunText(r: DryRunResponse): string {
  const summary: Record<string, string> = {
    outcome: r.outcome,
    destination: r.e164 === '' ? '(invalid)' : `${r.e164} ${r.country}${r.mccMnc ? ` ${r.mccMnc}` : ''}`,
  };
  if (r.ported) summary.ported = 'yes';
  const fw = r.firewall;
  summary.firewall = fw?.rejected ? `rejected by ${fw.ruleId}: ${fw.reason}` : 'passed';
  if (fw && fw.statefulRuleIds.length > 0)
    summary['not evaluated'] = `${fw.statefulRuleIds.join(', ')} (duplicate/velocity windows)`;
  summary.rule = r.ruleId === '' ? '(none)' : `${r.ruleId} (${r.strategy})`;
  if (r.outcome === 'rejected') {
    summary.rejected = `${r.rejectCategory}: ${r.rejectReason}`;
    summary.receipt = `stat:${r.customerStat} err:${String(r.customerErr).padStart(3, '0')}`;
  } else {
    summary.chosen = r.chosenConnectorId;
    summary.why = r.chosenReason;
  }
  if (r.holdUntil) summary['held until'] = r.holdUntil.toISOString();
  if (r.senderRewrite) summary['sender rewrite'] = r.senderRewrite;
  summary.tables = `${r.tablesVersion} on ${r.replicaId}`;
  let out = keyValueTable(summary);
  if (r.candidates.length > 0)
    out += `\n${listTable(
      r.candidates,
      [
        { header: '#', value: (c: CandidateConnector) => (c.eligible ? String(c.position) : '-') },
        { header: 'CONNECTOR', value: (c: CandidateConnector) => c.connectorId },
        { header: 'PRICE', value: (c: CandidateConnector) => formatMoney(c.price) },
        { header: 'REASON', value: (c: CandidateConnector) => c.reason },
      ],
      'connectors',
    )}`;
  return out;
}

export function estimatesText(r: GetEstimatesResponse): string {
  const head =
    r.pinnedConnectorId !== '' || r.explorationShare > 0
      ? `exploration ${pct(r.explorationShare)}${r.pinnedConnectorId ? `, pinned to ${r.pinnedConnectorId}` : ''}; half-life ${r.halfLifeMs / 1000} s\n`
      : `half-life ${r.halfLifeMs / 1000} s\n`;
  return (
    head +
    listTable(
      r.estimates,
      [
        { header: 'DESTINATION', value: (e: Estimate) => e.destination },
        { header: 'TRAFFIC', value: (e: Estimate) => traffic(e.trafficType) },
        { header: 'CONNECTOR', value: (e: Estimate) => `${e.connectorId}${e.pinned ? ' (pinned)' : ''}` },
        { header: 'P(DELIVER)', value: (e: Estimate) => pct(e.deliveryProbability) },
        {
          header: 'SAMPLES',
          value: (e: Estimate) => `${e.samples.toFixed(1)}${e.trusted ? '' : ' (prior)'}`,
        },
        {
          header: 'P95 MS',
          value: (e: Estimate) => (e.p95LatencyMs === undefined ? '' : String(e.p95LatencyMs)),
        },
        { header: 'PRICE', value: (e: Estimate) => formatMoney(e.price) },
        {
          header: 'DELIVERED/UNIT',
          value: (e: Estimate) => (e.deliveredPerUnit === undefined ? '' : e.deliveredPerUnit.toFixed(1)),
        },
        { header: 'MEETS LEVEL', value: (e: Estimate) => (e.meetsLevel ? 'yes' : '') },
        { header: 'LAST', value: (e: Estimate) => time(e.lastAt) },
      ],
      'learnt estimates',
    )
  );
}

export function hitsText(r: GetRuleHitsResponse): string {
  const w = r.windowSeconds;
  const label = w % 3600 === 0 ? `${w / 3600}H` : `${Math.round(w / 60)}M`;
  return listTable(
    r.rules,
    [
      { header: 'RULE', value: (h: RuleHits) => h.ruleId },
      { header: 'KIND', value: (h: RuleHits) => h.kind },
      { header: '1H', value: (h: RuleHits) => h.hitsLastHour.toString() },
      { header: '24H', value: (h: RuleHits) => h.hitsLastDay.toString() },
      ...(w === 3600 || w === 86_400
        ? []
        : [{ header: label, value: (h: RuleHits) => h.hitsWindow.toString() }]),
      { header: 'LAST HIT', value: (h: RuleHits) => time(h.lastHitAt) },
    ],
    'rule hits in the last 7 days',
  );
}

export function routingCommands(session: Session, program: Command): void {
  const routing = program
    .command('routing')
    .description("routing's decisions: dry runs, learnt estimates, rule hits (admin, operations)");

  routing
    .command('dry-run')
    .description('where would this message go and why (nothing is sent or counted)')
    .requiredOption('--account <id>', 'customer account id')
    .requiredOption('--to <number>', 'destination (+447700900123, or national for the account)')
    .option('--from <sender>', 'sender id or number', '')
    .option('--text <text>', 'message text (content rules see it)', '')
    .option('--binary', 'a binary message (content rules are skipped)')
    .option('--traffic-type <type>', 'otp, transactional or marketing')
    .option('--at <time>', 'decide as if it arrived at this time (RFC 3339 or relative: +2h)')
    .option('--explore', 'adaptive rules: draw exploration as for real traffic (default: the learnt choice)')
    .addHelpText(
      'after',
      '\nExample:\n  $ hubctl routing dry-run --account acc_1 --to +447700900123 --from ACME --text "Your code is 1234" --traffic-type otp\n',
    )
    .action(
      async (
        f: {
          account: string;
          to: string;
          from: string;
          text: string;
          binary?: boolean;
          trafficType?: string;
          at?: string;
          explore?: boolean;
        },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const res = await ctx.rpc.unary(
          'routing',
          'dryRun',
          DryRunRequest.fromPartial({
            accountId: f.account,
            destination: f.to,
            source: f.from,
            text: f.text,
            encodingBinary: f.binary === true,
            trafficType:
              f.trafficType === undefined
                ? TrafficType.TRAFFIC_TYPE_UNSPECIFIED
                : parseEnum(TrafficType, 'TRAFFIC_TYPE_', f.trafficType, '--traffic-type'),
            ...(f.at === undefined ? {} : { at: parseTime(f.at, '--at', ctx.now()) }),
            drawExploration: f.explore === true,
          }),
        );
        ctx.emit(DryRunResponse.toJSON(res), () => dryRunText(res));
      },
    );

  routing
    .command('estimates')
    .description("the adaptive strategy's learnt delivery probability, samples and latency")
    .option('--rule <id>', 'an adaptive rule: its connectors, service level, prior and pin')
    .option('--connector <id>', 'one connector')
    .option('--destination <key>', 'a network (234-30), a country (GB) or a number (+4477...: with prices)')
    .option('--traffic-type <type>', 'otp, transactional or marketing')
    .addHelpText(
      'after',
      '\nExample:\n  $ hubctl routing estimates --rule r_otp --destination +447700900123\n',
    )
    .action(
      async (
        f: { rule?: string; connector?: string; destination?: string; trafficType?: string },
        c: Command,
      ) => {
        const ctx = session.ctx(c);
        const res = await ctx.rpc.unary(
          'routing',
          'getEstimates',
          GetEstimatesRequest.fromPartial({
            ruleId: f.rule ?? '',
            connectorId: f.connector ?? '',
            destination: f.destination ?? '',
            trafficType:
              f.trafficType === undefined
                ? TrafficType.TRAFFIC_TYPE_UNSPECIFIED
                : parseEnum(TrafficType, 'TRAFFIC_TYPE_', f.trafficType, '--traffic-type'),
          }),
        );
        ctx.emit(GetEstimatesResponse.toJSON(res), () => estimatesText(res));
      },
    );

  routing
    .command('hits')
    .description('messages each routing and firewall rule decided: last hour, 24 h, a window (stats service)')
    .option('--window <duration>', 'a further window: 15m, 6h, 7d (max 7d)')
    .option('--rule <id...>', 'only these rules')
    .action(async (f: { window?: string; rule?: string[] }, c: Command) => {
      const ctx = session.ctx(c);
      let windowSeconds = 0;
      if (f.window !== undefined) {
        const ms = parseDuration(f.window, '--window');
        if (ms < 60_000 || ms > 7 * 86_400_000)
          throw new CliError('--window must be between 1m and 7d', EXIT.USAGE);
        windowSeconds = Math.round(ms / 1000);
      }
      const res = await ctx.rpc.unary(
        'stats',
        'getRuleHits',
        GetRuleHitsRequest.fromPartial({ windowSeconds, ruleIds: f.rule ?? [] }),
      );
      ctx.emit(GetRuleHitsResponse.toJSON(res), () => hitsText(res));
    });
}
