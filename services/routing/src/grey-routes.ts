// Grey-route monitoring (issue 21 item 3; docs/routing.md "Grey routes"): probes, receipt latency
// statistics, and the suspicion record that demotes a connector.
//
// Probes. routing_probe_targets (migration 0342) names a probe number per connector (and destination).
// Every tick, any replica claims the targets that are due (one UPDATE ... RETURNING: each target gets one
// probe per interval across replicas) and publishes, for each, an SmsRouted pinned to that connector
// (channel PROBE, the probe account, text "smshub probe PRB-<token>") straight onto sms.routed.v1: the
// route is the point of the probe, so no rule, strategy or firewall decides it. egress sends it, dlr
// publishes its receipt on sms.delivery.v1 (recorded as the probe's receipt), and the probe handset's MO
// comes back through inbound on sms.inbound.v1 from the probe number, carrying the token (recorded as its
// confirmation). Rating prices channel PROBE as internal traffic (no sell price, the real buy cost).
//
// Statistics. Every DELIVERED final status on sms.delivery.v1 adds its submit -> receipt latency
// (updated_at - received_at) to its connector's window of the last 500; a window that is implausibly
// instant or uniform (domain/grey-routes.ts) is a signal of its own.
//
// Verdicts. Every tick one replica (a transaction-scoped advisory lock) reads the recent probes, combines
// them with the latency windows and the suspicions in force (SuspicionStore, from the compacted topic
// routing.suspicion.v1), and publishes a RouteSuspicion when a connector becomes suspected, its reasons
// change, or it is cleared: by its probes passing again, by a plausible latency window when the suspicion
// rested on latency only, or by an operator (a routing_suspicion_clears row newer than the suspicion).
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  DeliveryStatus,
  deliveryStatusToJSON,
  RoutingStrategy,
  SubmitChannel,
  SuspicionReason,
  TrafficType,
  type RouteSuspicion,
  type SmsInbound,
  type SmsRouted,
  type SmsSubmitted,
  type TopicSpec,
} from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { TypedProducer } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import {
  DEFAULT_LATENCY_POLICY,
  DEFAULT_PROBE_POLICY,
  implausibleLatency,
  latencyStats,
  LatencyWindow,
  probeVerdict,
  type LatencyPolicy,
  type ProbePolicy,
  type ProbeRecord,
  type SuspicionReasonName,
} from './domain/grey-routes.js';
import type { PrefixTable } from './domain/prefix-table.js';
import type { Clock } from './domain/types.js';
import { numberInfo } from './mapping.js';
import { metrics } from './metrics.js';
import type { SuspicionStore } from './suspicion-store.js';
import type { DeliveryView } from './delivery-view.js';

/** The token a probe carries, as the handset echoes it. */
export const PROBE_TOKEN = /PRB-[0-9a-f]{12}/;

export interface GreyRouteConfig {
  /** Account probes are sent as (an internal account; rating never charges channel PROBE). '' = no probes. */
  probeAccountId: string;
  /** Hub number probes are sent from: the handset's MO goes to it (assign it to the probe account). */
  probeSender: string;
  /** How often due targets are claimed and verdicts computed. */
  tickMs: number;
  probe: ProbePolicy;
  /** Receipt latency signal; undefined = off. */
  latency?: LatencyPolicy;
}

export const DEFAULT_GREY_ROUTE_CONFIG: GreyRouteConfig = {
  probeAccountId: '',
  probeSender: '',
  tickMs: 5_000,
  probe: DEFAULT_PROBE_POLICY,
  latency: DEFAULT_LATENCY_POLICY,
};

const REASON: Record<SuspicionReasonName, SuspicionReason> = {
  fake_receipts: SuspicionReason.SUSPICION_REASON_FAKE_RECEIPTS,
  late_delivery: SuspicionReason.SUSPICION_REASON_LATE_DELIVERY,
  implausible_latency: SuspicionReason.SUSPICION_REASON_IMPLAUSIBLE_LATENCY,
};

/** Advisory lock key of the verdict pass (one replica at a time). */
const VERDICT_LOCK = 0x5e3721;

export interface GreyRouteDeps {
  pool: Pool;
  producer: TypedProducer;
  topics: { routed: TopicSpec<SmsRouted>; suspicion: TopicSpec<RouteSuspicion> };
  logger: Logger;
  clock: Clock;
  /** The prefix table in force (destination info of a probe); undefined before the first load. */
  prefixes: () => PrefixTable | undefined;
  suspicions: SuspicionStore;
  config: GreyRouteConfig;
}

interface DueTarget {
  id: string;
  connector_id: string;
  number: string;
  destination: string;
  /** The target's own account and sender (migration 0343); null: the configured defaults. */
  account_id?: string | null;
  sender?: string | null;
}

export class GreyRouteMonitor {
  private readonly latency = new Map<string, LatencyWindow>();
  /** Operator clears: latency samples before this time do not count. */
  private readonly clearedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private warned = false;
  private readonly log: Logger;

  constructor(private readonly deps: GreyRouteDeps) {
    this.log = deps.logger.child({ component: 'grey-routes' });
  }

  start(): void {
    const loop = () => {
      this.running = this.tick()
        .catch((err: unknown) => this.log.warn({ err }, 'grey-route tick failed; next tick retries'))
        .finally(() => {
          this.running = undefined;
          if (this.timer !== undefined) this.timer = setTimeout(loop, this.deps.config.tickMs).unref();
        });
    };
    this.timer = setTimeout(loop, 0).unref();
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.running;
  }

  /** One pass: send due probes, then compute and publish verdicts. */
  async tick(): Promise<void> {
    await this.sendDueProbes();
    await this.verdicts();
  }

  /** DELIVRD latency samples held for a connector (its window). */
  latencySamples(connectorId: string): number {
    return this.latency.get(connectorId)?.values().length ?? 0;
  }

  // ---------------------------------------------------------------- inputs

  /**
   * A final status on sms.delivery.v1: a probe's receipt, and a latency sample of its connector. Returns the
   * probe's database write when there is one (to await), else nothing: the rest is synchronous.
   */
  onDelivery(d: DeliveryView): Promise<void> | undefined {
    if (!d.final || d.connectorId === '') return undefined;
    const ctx = d.context;
    const at = (d.updatedAt ?? d.doneAt)?.getTime();
    if (ctx?.channel === SubmitChannel.SUBMIT_CHANNEL_PROBE) {
      // The latency sample only once the probe's receipt is written (a failed write retries both).
      return this.deps.pool
        .query(
          `UPDATE routing_probes SET receipt_status = $2, receipt_at = $3
            WHERE message_id = $1 AND receipt_at IS NULL`,
          [
            ctx.messageId,
            deliveryStatusToJSON(d.status).replace('DELIVERY_STATUS_', ''),
            new Date(at ?? this.deps.clock()),
          ],
        )
        .then(() => this.sampleLatency(d, at));
    }
    this.sampleLatency(d, at);
    return undefined;
  }

  private sampleLatency(d: DeliveryView, at: number | undefined): void {
    const policy = this.deps.config.latency;
    if (!policy || d.status !== DeliveryStatus.DELIVERY_STATUS_DELIVERED) return;
    const submitted = d.context?.receivedAt?.getTime();
    if (submitted === undefined || at === undefined) return;
    if (at <= (this.clearedAt.get(d.connectorId) ?? -Infinity)) return;
    let w = this.latency.get(d.connectorId);
    if (!w) this.latency.set(d.connectorId, (w = new LatencyWindow()));
    w.add(Math.max(0, at - submitted));
  }

  /** An inbound message on sms.inbound.v1: a probe handset's confirmation when it carries a token. */
  async onInbound(m: SmsInbound): Promise<void> {
    const token = PROBE_TOKEN.exec(m.text)?.[0];
    if (!token) return;
    const from = (m.source?.address ?? '').replace(/^\+/, '');
    const r = await this.deps.pool.query(
      `UPDATE routing_probes SET confirmed_at = $3
        WHERE token = $1 AND number = $2 AND confirmed_at IS NULL`,
      [token, from, m.receivedAt ?? new Date(this.deps.clock())],
    );
    if (r.rowCount) metrics.probes.inc({ event: 'confirmed' });
  }

  // ---------------------------------------------------------------- probes

  private async sendDueProbes(): Promise<void> {
    const { config, pool, clock } = this.deps;
    // A target needs an account and a sender, its own or the configured defaults.
    const { rows } = await pool.query<DueTarget>(
      `UPDATE routing_probe_targets SET next_at = now() + make_interval(secs => interval_s)
        WHERE enabled AND next_at <= now()
          AND coalesce(account_id, $1) <> '' AND coalesce(sender, $2) <> ''
        RETURNING id, connector_id, number, destination, account_id, sender`,
      [config.probeAccountId, config.probeSender.replace(/^\+/, '')],
    );
    if (rows.length === 0 && !this.warned && (config.probeAccountId === '' || config.probeSender === '')) {
      const { rows: idle } = await pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM routing_probe_targets
          WHERE enabled AND (coalesce(account_id, $1) = '' OR coalesce(sender, $2) = '')`,
        [config.probeAccountId, config.probeSender],
      );
      if (Number(idle[0]?.n ?? 0) > 0) {
        this.warned = true;
        this.log.warn(
          'probe targets without an account or sender, and ROUTING_PROBE_ACCOUNT_ID / ROUTING_PROBE_SENDER unset: they get no probes',
        );
      }
    }
    for (const t of rows) {
      const messageId = uuidv7();
      const token = `PRB-${randomBytes(6).toString('hex')}`;
      const now = new Date(clock());
      await pool.query(
        `INSERT INTO routing_probes (message_id, token, target_id, connector_id, destination, number, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [messageId, token, t.id, t.connector_id, t.destination, t.number, now],
      );
      await this.deps.producer.produce(this.deps.topics.routed, this.probeMessage(t, messageId, token, now));
      metrics.probes.inc({ event: 'sent' });
      this.log.info({ target: t.id, connector: t.connector_id, hubMessageId: messageId }, 'probe sent');
    }
  }

  /** The routed event of a probe: pinned to the target's connector. */
  probeMessage(t: DueTarget, messageId: string, token: string, now: Date): SmsRouted {
    const { config } = this.deps;
    const message: SmsSubmitted = {
      messageId,
      accountId: t.account_id ?? config.probeAccountId,
      systemId: '',
      session: undefined,
      source: { ton: 1, npi: 1, address: (t.sender ?? config.probeSender).replace(/^\+/, '') },
      destination: { ton: 1, npi: 1, address: t.number },
      esmClass: 0,
      protocolId: 0,
      priority: 0,
      // The hub asks the supplier for a receipt anyway; nobody gets a customer receipt of a probe.
      registeredDelivery: 0,
      dataCoding: 0,
      shortMessage: Buffer.from(`smshub probe ${token}`, 'latin1'),
      fromMessagePayload: false,
      concat: undefined,
      serviceType: '',
      validityUntil: undefined,
      validityPeriodRaw: '',
      scheduleAt: undefined,
      scheduleDeliveryTimeRaw: '',
      tlvs: [],
      receivedAt: now,
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
      replaceIfPresent: 0,
      smDefaultMsgId: 0,
      channel: SubmitChannel.SUBMIT_CHANNEL_PROBE,
      callbackUrl: '',
      clientReference: '',
      holdUntil: undefined,
      holdReason: 0,
      releasedAt: undefined,
    };
    const prefixes = this.deps.prefixes();
    const match = prefixes?.lookup(t.number);
    const info =
      prefixes && match
        ? numberInfo({ e164: `+${t.number}`, country: match.country, mccMnc: match.mccMnc }, prefixes)
        : undefined;
    return {
      message,
      candidates: [
        {
          connectorId: t.connector_id,
          ruleId: `probe:${t.id}`,
          reason: 'probe: pinned to this connector',
          expectedCost: undefined,
          buyRateId: '',
        },
      ],
      strategy: RoutingStrategy.ROUTING_STRATEGY_PRIORITY,
      destinationInfo: info,
      routedAt: now,
      reroute: undefined,
    };
  }

  // ---------------------------------------------------------------- verdicts

  private async verdicts(): Promise<void> {
    const { pool, clock, config, suspicions } = this.deps;
    const client = await pool.connect();
    const toPublish: RouteSuspicion[] = [];
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        VERDICT_LOCK,
      ]);
      if (!lock.rows[0]?.ok) {
        await client.query('ROLLBACK');
        return;
      }
      const clears = await client.query<{ connector_id: string; cleared_at: Date; cleared_by: string }>(
        'SELECT connector_id, cleared_at, cleared_by FROM routing_suspicion_clears',
      );
      const clearOf = new Map(clears.rows.map((r) => [r.connector_id, r]));
      for (const c of clears.rows) {
        const before = this.clearedAt.get(c.connector_id);
        if (before === undefined || before < c.cleared_at.getTime()) {
          this.clearedAt.set(c.connector_id, c.cleared_at.getTime());
          this.latency.get(c.connector_id)?.clear();
        }
      }
      // The newest probes of each connector since its last operator clear.
      const keep = Math.max(50, config.probe.window * 5);
      const probes = await client.query<{
        message_id: string;
        connector_id: string;
        sent_at: Date;
        receipt_status: string | null;
        receipt_at: Date | null;
        confirmed_at: Date | null;
      }>(
        `SELECT message_id, connector_id, sent_at, receipt_status, receipt_at, confirmed_at FROM (
           SELECT p.*, row_number() OVER (PARTITION BY p.connector_id ORDER BY p.sent_at DESC) AS rn
             FROM routing_probes p LEFT JOIN routing_suspicion_clears c USING (connector_id)
            WHERE p.sent_at > coalesce(c.cleared_at, '-infinity')) x
          WHERE rn <= $1`,
        [keep],
      );
      const byConnector = new Map<string, ProbeRecord[]>();
      for (const r of probes.rows) {
        let list = byConnector.get(r.connector_id);
        if (!list) byConnector.set(r.connector_id, (list = []));
        list.push({
          messageId: r.message_id,
          connectorId: r.connector_id,
          sentAt: r.sent_at.getTime(),
          receiptStatus: r.receipt_status ?? undefined,
          receiptAt: r.receipt_at?.getTime(),
          confirmedAt: r.confirmed_at?.getTime(),
        });
      }
      const now = clock();
      const connectors = new Set([
        ...byConnector.keys(),
        ...this.latency.keys(),
        ...suspicions.suspectedIds(),
      ]);
      for (const connectorId of connectors) {
        const v = probeVerdict(byConnector.get(connectorId) ?? [], now, config.probe);
        const w = this.latency.get(connectorId);
        const stats = w && config.latency ? latencyStats(w.values(), config.latency.instantMs) : undefined;
        const latencyBad =
          stats !== undefined && config.latency !== undefined && implausibleLatency(stats, config.latency);
        const reasons: SuspicionReasonName[] = [
          ...v.reasons,
          ...(latencyBad ? (['implausible_latency'] as const) : []),
        ];
        const current = suspicions.get(connectorId);
        const evidence = {
          ...(v.tally.evaluated > 0 ? { probes: v.tally } : {}),
          ...(stats && stats.samples > 0
            ? {
                latency: {
                  samples: stats.samples,
                  instantShare: stats.instantShare,
                  coefficientOfVariation: stats.cv,
                  medianMs: stats.medianMs,
                },
              }
            : {}),
        };
        if (current?.suspected) {
          const since = current.since?.getTime() ?? 0;
          const clear = clearOf.get(connectorId);
          const probeBased = current.reasons.some(
            (r) => r !== SuspicionReason.SUSPICION_REASON_IMPLAUSIBLE_LATENCY,
          );
          let clearedBy = '';
          if (clear && clear.cleared_at.getTime() >= since) clearedBy = clear.cleared_by;
          else if (probeBased && v.passing && !latencyBad) clearedBy = 'probes';
          else if (!probeBased && !latencyBad && reasons.length === 0) clearedBy = 'latency';
          if (clearedBy) {
            // Evidence before now no longer counts (the failing probes that caused the suspicion).
            if (!clear || clear.cleared_at.getTime() < since)
              await client.query(
                `INSERT INTO routing_suspicion_clears (connector_id, cleared_at, cleared_by) VALUES ($1, $2, $3)
                 ON CONFLICT (connector_id) DO UPDATE SET cleared_at = $2, cleared_by = $3`,
                [connectorId, new Date(now), clearedBy],
              );
            toPublish.push({
              connectorId,
              destination: '',
              suspected: false,
              reasons: [],
              probes: evidence.probes,
              latency: evidence.latency,
              since: undefined,
              updatedAt: new Date(now),
              clearedBy,
              summary: `cleared by ${clearedBy}`,
            });
            continue;
          }
          const next = reasons.map((r) => REASON[r]).sort();
          const merged = [...new Set([...current.reasons, ...next])].sort();
          if (merged.join() !== [...current.reasons].sort().join())
            toPublish.push(
              this.suspicion(connectorId, merged, evidence, current.since ?? new Date(now), now),
            );
          continue;
        }
        if (reasons.length > 0)
          toPublish.push(
            this.suspicion(
              connectorId,
              reasons.map((r) => REASON[r]),
              evidence,
              new Date(now),
              now,
            ),
          );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    for (const s of toPublish) {
      await this.deps.producer.produce(this.deps.topics.suspicion, s);
      this.log.warn(
        { connector: s.connectorId, suspected: s.suspected, summary: s.summary, clearedBy: s.clearedBy },
        s.suspected ? 'connector suspected of being a grey route' : 'grey-route suspicion cleared',
      );
    }
  }

  private suspicion(
    connectorId: string,
    reasons: SuspicionReason[],
    evidence: Pick<RouteSuspicion, 'probes' | 'latency'>,
    since: Date,
    now: number,
  ): RouteSuspicion {
    const parts: string[] = [];
    const p = evidence.probes;
    if (reasons.includes(SuspicionReason.SUSPICION_REASON_FAKE_RECEIPTS) && p)
      parts.push(
        `${p.unconfirmed} of ${p.evaluated - p.failed} probes DELIVRD without a handset confirmation`,
      );
    if (reasons.includes(SuspicionReason.SUSPICION_REASON_LATE_DELIVERY) && p)
      parts.push(`${p.late} of ${p.evaluated - p.failed} probes reached the handset late`);
    const l = evidence.latency;
    if (reasons.includes(SuspicionReason.SUSPICION_REASON_IMPLAUSIBLE_LATENCY) && l)
      parts.push(
        `${Math.round(l.instantShare * 100)} % of ${l.samples} receipts within 1 s, cv ${l.coefficientOfVariation.toFixed(2)}`,
      );
    return {
      connectorId,
      destination: '',
      suspected: true,
      reasons,
      probes: evidence.probes,
      latency: evidence.latency,
      since,
      updatedAt: new Date(now),
      clearedBy: '',
      summary: parts.join('; '),
    };
  }
}
