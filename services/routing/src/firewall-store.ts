// The firewall's duplicate and velocity windows in PostgreSQL (migrations 0310-0312), shared by every
// routing replica and kept over restarts. One statement per consumed batch, whatever its size: the
// function routing_firewall_decide locks the batch's keys (velocity counters of the current bucket,
// duplicate keys; sorted, so batches never deadlock on each other), reads them after the locks (what
// another replica's batch holding a key committed), decides every message in batch order, first come
// first served (as decideStateful in src/domain/shared-windows.ts, which the in-memory windows use and
// the tests compare it with), adds what it admitted, and returns the rejections. One round trip per
// batch, none per message. A deadlock (a cleanup against a batch) is retried here; any other database
// error fails the batch, which the consumer retries (StoreError says whether a retry can help), so nothing
// is decided without the shared windows.

import { store, type Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import { reject } from './domain/customer-error.js';
import {
  batchKeys,
  windowKey,
  type DuplicateNeed,
  type SharedFirewallWindows,
  type StatefulCheck,
  type VelocityNeed,
} from './domain/shared-windows.js';
import type { RejectedDecision } from './domain/types.js';

const DECIDE = `SELECT check_no, need_no, first_id
  FROM routing_firewall_decide($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::text[], $7::text[],
                               $8::bigint[], $9::bigint[], $10::text[], $11::text[], $12::bigint[], $13::text[],
                               $14::bigint, $15::bigint)`;

interface Rejection {
  check_no: number;
  need_no: number;
  first_id: string | null;
}

export interface PgFirewallWindowsOptions {
  /** How long an admitted message id is remembered (redeliveries within it are not counted again). */
  rememberMs: number;
  /** Interval of the deletion of expired rows; 0 = never (tests). */
  cleanupIntervalMs: number;
  /** Attempts of a batch's transaction on a deadlock. Default 5. */
  deadlockAttempts?: number;
}

export class PgFirewallWindows implements SharedFirewallWindows {
  private timer: NodeJS.Timeout | undefined;
  private cleaning: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly options: PgFirewallWindowsOptions,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async decide(checks: readonly StatefulCheck[], nowMs: number): Promise<Array<RejectedDecision | null>> {
    const attempts = this.options.deadlockAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await store('firewall windows', () => this.decideOnce(checks, nowMs));
      } catch (err) {
        const code = ((err as Error).cause as { code?: unknown } | undefined)?.code;
        if (code !== '40P01' || attempt >= attempts) throw err;
        this.log.debug({ attempt }, 'firewall windows: deadlock, retrying the batch');
      }
    }
  }

  private async decideOnce(
    all: readonly StatefulCheck[],
    nowMs: number,
  ): Promise<Array<RejectedDecision | null>> {
    // A message twice in one batch (a producer's retry) is decided once; its copies get the same answer.
    const first = new Map<string, number>();
    const checks: StatefulCheck[] = [];
    for (const c of all) {
      if (first.has(c.hubMessageId)) continue;
      first.set(c.hubMessageId, checks.length);
      checks.push(c);
    }
    const keys = batchKeys(checks, nowMs);
    const velocityIndex = new Map(keys.velocity.map((v, i) => [windowKey(v.ruleKey, v.key), i + 1]));
    const duplicateIndex = new Map(keys.duplicates.map((d, i) => [windowKey(d.ruleKey, d.key), i + 1]));
    const needs: Array<DuplicateNeed | VelocityNeed> = [];
    const needCheck: number[] = [];
    const needVel: Array<number | null> = [];
    const needDup: Array<number | null> = [];
    const needLimit: Array<number | null> = [];
    checks.forEach((c, i) => {
      for (const d of c.duplicates) {
        needs.push(d);
        needCheck.push(i + 1);
        needVel.push(null);
        needDup.push(duplicateIndex.get(windowKey(d.ruleKey, d.key))!);
        needLimit.push(null);
      }
      for (const v of c.velocity) {
        needs.push(v);
        needCheck.push(i + 1);
        needVel.push(velocityIndex.get(windowKey(v.ruleKey, v.key))!);
        needDup.push(null);
        needLimit.push(v.limit);
      }
    });
    const { rows } = await this.pool.query<Rejection>(DECIDE, [
      checks.map((c) => c.hubMessageId),
      needCheck,
      needVel,
      needDup,
      needLimit,
      keys.velocity.map((v) => v.ruleKey),
      keys.velocity.map((v) => v.key),
      keys.velocity.map((v) => v.bucket),
      keys.velocity.map((v) => v.expiresAtMs),
      keys.duplicates.map((d) => d.ruleKey),
      keys.duplicates.map((d) => d.key),
      keys.duplicates.map((d) => d.expiresAtMs),
      keys.ids,
      nowMs,
      nowMs + this.options.rememberMs,
    ]);
    const verdicts: Array<RejectedDecision | null> = checks.map(() => null);
    for (const r of rows) {
      const c = checks[r.check_no - 1]!;
      const need = needs[r.need_no - 1]!;
      verdicts[r.check_no - 1] =
        'limit' in need
          ? reject('velocity', need.ruleId, need.reason, c.destination)
          : reject('duplicate', need.ruleId, need.reason(r.first_id ?? ''), c.destination);
    }
    return all.map((c) => verdicts[first.get(c.hubMessageId)!] ?? null);
  }

  /** Deletes rows that no longer count (any replica may; concurrent deletions are harmless). */
  async cleanup(): Promise<number> {
    const now = this.clock();
    let deleted = 0;
    for (const table of [
      'routing_firewall_counters',
      'routing_firewall_duplicates',
      'routing_firewall_admitted',
    ]) {
      const r = await store('firewall windows cleanup', () =>
        this.pool.query(`DELETE FROM ${table} WHERE expires_at_ms < $1`, [now]),
      );
      deleted += r.rowCount ?? 0;
    }
    return deleted;
  }

  start(): void {
    const every = this.options.cleanupIntervalMs;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.cleaning) return;
      this.cleaning = this.cleanup()
        .then((n) => {
          if (n > 0) this.log.debug({ deleted: n }, 'firewall windows: expired rows deleted');
        })
        .catch((err: unknown) =>
          this.log.warn({ err }, 'firewall windows cleanup failed; next interval retries'),
        )
        .finally(() => {
          this.cleaning = undefined;
        });
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.cleaning;
  }
}
