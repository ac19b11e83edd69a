// Quiet hours in memory: every row of `quiet_hours` (0330) compiled into a QuietHoursTable
// (domain/quiet-hours.ts), so that checking a message is two Map reads and a window evaluation, never a
// database round trip.
//
// Loaded at start (after the config consumer joined) and read again, whole, on every config.changes.v1
// record of RESOURCE_KIND_QUIET_HOURS (the table is small: one row per country, plus account overrides).
// A row that does not compile (unknown zone, bad HH:MM) is skipped and logged; the others stay in force.

import { ResourceKind, SmsSubmitted, type ConfigChange } from '@smshub/contracts';
import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import {
  compileQuietHours,
  QuietHoursTable,
  quietHoursVerdict,
  type CompiledQuietHours,
  type QuietHoursVerdict,
} from './domain/quiet-hours.js';
import type { TimeWindow } from './domain/time-window.js';

interface Row {
  country: string;
  account_id: string;
  allowed: TimeWindow[];
}

export class QuietHoursStore {
  table = new QuietHoursTable();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  static handles(c: ConfigChange): boolean {
    return c.kind === ResourceKind.RESOURCE_KIND_QUIET_HOURS;
  }

  /** Reads the whole table again (one at a time; a failure keeps the table in force and is thrown). */
  load(): Promise<void> {
    const next = this.chain.catch(() => undefined).then(() => this.read());
    this.chain = next;
    return next;
  }

  onChange(_c: ConfigChange): Promise<void> {
    return this.load();
  }

  private async read(): Promise<void> {
    const { rows } = await this.pool.query<Row>(
      'SELECT country, account_id, allowed FROM quiet_hours ORDER BY country, account_id',
    );
    const entries: CompiledQuietHours[] = [];
    for (const r of rows) {
      try {
        entries.push(compileQuietHours({ country: r.country, accountId: r.account_id, allowed: r.allowed }));
      } catch (err) {
        this.log.error({ err, country: r.country, accountId: r.account_id }, 'quiet hours entry refused');
      }
    }
    this.table = new QuietHoursTable(entries);
    this.log.info({ quietHours: this.table.size }, 'quiet hours loaded');
  }

  /** What to do with `m` (destination country `country`) at `now`: send, hold until, or expire. */
  verdict(m: SmsSubmitted, country: string, now: number): QuietHoursVerdict {
    return quietHoursVerdict(
      this.table,
      country,
      m.accountId,
      now,
      m.releasedAt !== undefined,
      m.validityUntil?.getTime(),
    );
  }
}
