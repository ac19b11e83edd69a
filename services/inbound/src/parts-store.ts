// inbound_parts (0800): parts of long MO waiting for their siblings. Every operation on one group runs in a
// transaction holding an advisory lock on the group, so the consumer and the timeout sweeper (this replica
// or another) never publish one group twice at the same time; the lock is held while the caller
// publishes, and the group is marked published in the same transaction (a crash before the commit leaves
// it unpublished: it is published again, with the same message ids, which consumers deduplicate).
import { SmsMo } from '@smshub/contracts';
import { withTransaction, type Pool, type PoolClient } from '@smshub/db';

export interface StoredPart {
  partNumber: number;
  partTotal: number;
  moId: string;
  mo: SmsMo;
  publishedAt: Date | null;
}

/** What the caller does with a group's parts, inside the group's lock. */
export type GroupAction = (parts: StoredPart[]) => Promise<'published' | 'wait'>;

interface PartRow {
  part_number: number;
  part_total: number;
  mo_id: string;
  record: Buffer;
  published_at: Date | null;
}

async function lockedParts(c: PoolClient, groupKey: string): Promise<StoredPart[]> {
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`inbound:${groupKey}`]);
  const { rows } = await c.query<PartRow>(
    `SELECT part_number, part_total, mo_id, record, published_at FROM inbound_parts
      WHERE group_key = $1 ORDER BY part_number`,
    [groupKey],
  );
  return rows.map((r) => ({
    partNumber: r.part_number,
    partTotal: r.part_total,
    moId: r.mo_id,
    mo: SmsMo.decode(r.record),
    publishedAt: r.published_at,
  }));
}

export class PartStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Adds a part to its group and runs `action` on the group's unpublished parts (this one included).
   *  - the same part (same mo_id) again: a re-read record; the group is acted on only if still unpublished;
   *  - another mo_id for a part number of a published group: the reference was reused by a new message, so
   *    the old group is dropped and a new one starts;
   *  - another mo_id for a part number of an unpublished group: the network sent the part twice; the
   *    first copy is kept.
   */
  async add(
    groupKey: string,
    part: { partNumber: number; partTotal: number; mo: SmsMo },
    action: GroupAction,
  ) {
    await withTransaction(this.pool, async (c) => {
      let parts = await lockedParts(c, groupKey);
      const same = parts.find((p) => p.partNumber === part.partNumber);
      if (same && same.moId !== part.mo.moId && parts.some((p) => p.publishedAt !== null)) {
        await c.query('DELETE FROM inbound_parts WHERE group_key = $1', [groupKey]);
        parts = [];
      } else if (parts.some((p) => p.publishedAt !== null)) {
        return; // this group went out already; the part is a re-read
      }
      if (!parts.some((p) => p.partNumber === part.partNumber)) {
        await c.query(
          `INSERT INTO inbound_parts (group_key, part_number, part_total, mo_id, record)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [
            groupKey,
            part.partNumber,
            part.partTotal,
            part.mo.moId,
            Buffer.from(SmsMo.encode(part.mo).finish()),
          ],
        );
        parts.push({ ...part, moId: part.mo.moId, publishedAt: null });
        parts.sort((a, b) => a.partNumber - b.partNumber);
      }
      if ((await action(parts)) === 'published') await markPublished(c, groupKey);
    });
  }

  /** Groups whose oldest unpublished part was stored before `before`. */
  async overdue(before: Date, limit = 500): Promise<string[]> {
    const { rows } = await this.pool.query<{ group_key: string }>(
      `SELECT group_key FROM inbound_parts WHERE published_at IS NULL
        GROUP BY group_key HAVING min(stored_at) < $1 ORDER BY min(stored_at) LIMIT $2`,
      [before, limit],
    );
    return rows.map((r) => r.group_key);
  }

  /** Runs `action` on an overdue group's parts (unless another replica published it meanwhile). */
  async expire(groupKey: string, before: Date, action: GroupAction): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      const parts = await lockedParts(c, groupKey);
      if (parts.length === 0 || parts.some((p) => p.publishedAt !== null)) return;
      const { rows } = await c.query<{ due: boolean }>(
        'SELECT min(stored_at) < $2 AS due FROM inbound_parts WHERE group_key = $1',
        [groupKey, before],
      );
      if (!rows[0]?.due) return;
      if ((await action(parts)) === 'published') await markPublished(c, groupKey);
    });
  }

  /** Deletes published groups older than `before` (their re-read protection is over). */
  async purge(before: Date): Promise<number> {
    const r = await this.pool.query('DELETE FROM inbound_parts WHERE published_at < $1', [before]);
    return r.rowCount ?? 0;
  }

  /** Unpublished parts now (for the gauge). */
  async waiting(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM inbound_parts WHERE published_at IS NULL',
    );
    return Number(rows[0]?.n ?? 0);
  }
}

async function markPublished(c: PoolClient, groupKey: string): Promise<void> {
  await c.query('UPDATE inbound_parts SET published_at = now() WHERE group_key = $1', [groupKey]);
}
