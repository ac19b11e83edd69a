// The grey-route suspicions in force (routing.suspicion.v1, compacted: the latest record per connector),
// read from the beginning by every replica, and the routing rules' demote_suspected settings (migration
// 0342), reloaded with the routing tables. The engine's decisions are demoted with them (core.ts).
import { suspicionReasonToJSON, type RouteSuspicion } from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import { metrics } from './metrics.js';

const REASON_LABEL = (r: number) => suspicionReasonToJSON(r).replace('SUSPICION_REASON_', '').toLowerCase();

export class SuspicionStore {
  private readonly byConnector = new Map<string, RouteSuspicion>();
  private rules = new Map<string, boolean>();

  /** Applies one record of the topic (the newest per connector wins). */
  apply(s: RouteSuspicion): void {
    if (s.destination !== '') return; // destination-limited suspicions: not produced yet
    const before = this.byConnector.get(s.connectorId);
    if (before?.updatedAt && s.updatedAt && before.updatedAt > s.updatedAt) return;
    this.byConnector.set(s.connectorId, s);
    // The alert metric: 1 per (connector, reason) suspected now, 0 for the reasons it no longer has.
    for (const r of before?.reasons ?? [])
      if (!s.suspected || !s.reasons.includes(r))
        metrics.routeSuspected.set({ connector: s.connectorId, reason: REASON_LABEL(r) }, 0);
    if (s.suspected)
      for (const r of s.reasons)
        metrics.routeSuspected.set({ connector: s.connectorId, reason: REASON_LABEL(r) }, 1);
  }

  get(connectorId: string): RouteSuspicion | undefined {
    return this.byConnector.get(connectorId);
  }

  suspectedIds(): string[] {
    return [...this.byConnector.values()].filter((s) => s.suspected).map((s) => s.connectorId);
  }

  get size(): number {
    return this.suspectedIds().length;
  }

  /** Why a connector is suspected (for the candidate's reason), or undefined when it is not. */
  readonly why = (connectorId: string): string | undefined => {
    const s = this.byConnector.get(connectorId);
    if (!s?.suspected) return undefined;
    return s.reasons.map(REASON_LABEL).join(', ').replaceAll('_', ' ');
  };

  /** A rule's demote_suspected setting (undefined: unset, the traffic type decides). */
  ruleSetting(ruleId: string): boolean | undefined {
    return this.rules.get(ruleId);
  }

  async loadRules(pool: Pool): Promise<void> {
    const { rows } = await pool.query<{ id: string; demote_suspected: boolean | null }>(
      'SELECT id, demote_suspected FROM routing_rules WHERE demote_suspected IS NOT NULL',
    );
    this.rules = new Map(rows.map((r) => [r.id, r.demote_suspected as boolean]));
  }
}
