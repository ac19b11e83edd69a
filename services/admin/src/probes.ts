// ProbeService (probes.proto) on admin's gRPC port: the grey-route probe targets routing reads
// (routing_probe_targets, migrations 0342/0343), the probes it sent, and an operator's clear of a
// suspected connector (routing_suspicion_clears: routing publishes the cleared record on its next tick and
// ignores evidence from before it). docs/routing.md "Grey routes".
import {
  ProbeServiceService,
  type ClearSuspicionRequest,
  type ClearSuspicionResponse,
  type DeleteProbeTargetRequest,
  type DeleteProbeTargetResponse,
  type ListProbesRequest,
  type ListProbesResponse,
  type ListProbeTargetsResponse,
  type Probe,
  type ProbeTarget,
  type SetProbeTargetRequest,
  type SetProbeTargetResponse,
} from '@smshub/contracts';
import type { CallInfo } from '@smshub/auth';
import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import type { AuditLog } from './audit.js';
import { invalid, notFound } from './errors.js';
import { toGrpcService, type ExtraService } from './server.js';

export const PROBE_SERVICE_NAME = 'smshub.admin.v1.ProbeService';

interface TargetRow {
  id: string;
  connector_id: string;
  number: string;
  destination: string;
  interval_s: number;
  enabled: boolean;
  account_id: string | null;
  sender: string | null;
  next_at: Date;
}

const COLUMNS = 'id, connector_id, number, destination, interval_s, enabled, account_id, sender, next_at';

function toTarget(r: TargetRow): ProbeTarget {
  return {
    id: r.id,
    connectorId: r.connector_id,
    number: r.number,
    destination: r.destination,
    intervalS: r.interval_s,
    enabled: r.enabled,
    accountId: r.account_id ?? '',
    sender: r.sender ?? '',
    nextAt: r.next_at,
  };
}

/** A target as stored, or the refusal naming the field (pure). */
export function validateTarget(t: ProbeTarget | undefined): Omit<TargetRow, 'next_at'> {
  if (!t) throw invalid('target', 'required');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(t.id)) throw invalid('target.id', 'must be 1..64 of [A-Za-z0-9_.-]');
  if (t.connectorId.trim() === '') throw invalid('target.connector_id', 'required');
  const number = t.number.trim().replace(/^\+/, '');
  if (!/^[0-9]{6,15}$/.test(number)) throw invalid('target.number', 'must be an E.164 number (6..15 digits)');
  if (!/^[0-9]{0,15}$/.test(t.destination)) throw invalid('target.destination', 'must be digits (a prefix)');
  const interval = t.intervalS === 0 ? 60 : t.intervalS;
  if (interval < 1 || interval > 86_400) throw invalid('target.interval_s', 'must be 1..86400 seconds');
  const sender = t.sender.trim().replace(/^\+/, '');
  if (sender !== '' && !/^[0-9]{3,15}$/.test(sender)) throw invalid('target.sender', 'must be a hub number');
  return {
    id: t.id,
    connector_id: t.connectorId.trim(),
    number,
    destination: t.destination,
    interval_s: interval,
    enabled: t.enabled,
    account_id: t.accountId.trim() === '' ? null : t.accountId.trim(),
    sender: sender === '' ? null : sender,
  };
}

export function probeHandlers(pool: Pool) {
  return {
    async setProbeTarget(req: SetProbeTargetRequest): Promise<SetProbeTargetResponse> {
      const t = validateTarget(req.target);
      const connector = await pool.query('SELECT 1 FROM egress_connectors WHERE id = $1', [t.connector_id]);
      if (connector.rowCount === 0) throw notFound('connector', t.connector_id);
      const { rows } = await pool.query<TargetRow>(
        `INSERT INTO routing_probe_targets (id, connector_id, number, destination, interval_s, enabled, account_id, sender)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET connector_id = $2, number = $3, destination = $4, interval_s = $5,
           enabled = $6, account_id = $7, sender = $8, updated_at = now()
         RETURNING ${COLUMNS}`,
        [t.id, t.connector_id, t.number, t.destination, t.interval_s, t.enabled, t.account_id, t.sender],
      );
      return { target: toTarget(rows[0]!) };
    },
    async listProbeTargets(): Promise<ListProbeTargetsResponse> {
      const { rows } = await pool.query<TargetRow>(
        `SELECT ${COLUMNS} FROM routing_probe_targets ORDER BY id`,
      );
      return { targets: rows.map(toTarget) };
    },
    async deleteProbeTarget(req: DeleteProbeTargetRequest): Promise<DeleteProbeTargetResponse> {
      const r = await pool.query('DELETE FROM routing_probe_targets WHERE id = $1', [req.id]);
      if (r.rowCount === 0) throw notFound('probe target', req.id);
      return {};
    },
    async listProbes(req: ListProbesRequest): Promise<ListProbesResponse> {
      const limit = Math.min(1000, req.limit === 0 ? 50 : req.limit);
      const { rows } = await pool.query<{
        message_id: string;
        target_id: string;
        connector_id: string;
        sent_at: Date;
        receipt_status: string | null;
        receipt_at: Date | null;
        confirmed_at: Date | null;
      }>(
        `SELECT message_id::text, target_id, connector_id, sent_at, receipt_status, receipt_at, confirmed_at
           FROM routing_probes WHERE ($1 = '' OR connector_id = $1) ORDER BY sent_at DESC LIMIT $2`,
        [req.connectorId, limit],
      );
      return {
        probes: rows.map((r): Probe => ({
          messageId: r.message_id,
          targetId: r.target_id,
          connectorId: r.connector_id,
          sentAt: r.sent_at,
          receiptStatus: r.receipt_status ?? '',
          receiptAt: r.receipt_at ?? undefined,
          confirmedAt: r.confirmed_at ?? undefined,
        })),
      };
    },
    async clearSuspicion(req: ClearSuspicionRequest, call: CallInfo): Promise<ClearSuspicionResponse> {
      if (req.connectorId.trim() === '') throw invalid('connector_id', 'required');
      const by = `operator:${call.principal.name}`;
      const { rows } = await pool.query<{ cleared_at: Date }>(
        `INSERT INTO routing_suspicion_clears (connector_id, cleared_at, cleared_by) VALUES ($1, now(), $2)
         ON CONFLICT (connector_id) DO UPDATE SET cleared_at = now(), cleared_by = $2
         RETURNING cleared_at`,
        [req.connectorId.trim(), by],
      );
      return { clearedAt: rows[0]!.cleared_at };
    },
  };
}

export function probeService(deps: { pool: Pool; logger: Logger }, audit: AuditLog): ExtraService {
  return {
    name: PROBE_SERVICE_NAME,
    definition: ProbeServiceService,
    implementation: toGrpcService(PROBE_SERVICE_NAME, probeHandlers(deps.pool), deps.logger, audit),
  };
}
