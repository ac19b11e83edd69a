/**
 * Group commit across consumed batches. The events consumer works on several partitions at once; each
 * partition's batch pushes its items here and is answered with the result of the statement (or
 * transaction) that carried them. While one commit runs, the batches that arrive queue up and go together
 * in the next one, so a live flow spread over many partitions costs one commit per round instead of one
 * per partition batch. A commit starts at the end of the event-loop turn in which its first member
 * arrived (setImmediate, no linger timer): the batches of one fetch, started together, share it.
 *
 * Used by rating (CDR transactions) and dlr (message rows: a message's events from several topics that
 * arrive together are written as one row update).
 *
 * A group that fails is committed again one member at a time, so a batch that can never succeed (a balance
 * in another currency) fails alone and the consumer isolates its poison record without taking the other
 * partitions' batches with it.
 */
export interface GroupCommitOptions<T, R> {
  commit: (items: T[]) => Promise<R>;
  /**
   * Two members holding the same key never share a commit (two events of one message on two topics): the
   * later member waits for the next commit and then sees what the first one wrote. Without it, members
   * share a commit whatever their items, in the order they were pushed (for a commit that applies the
   * items in order itself).
   */
  keyOf?: (item: T) => string;
  /** Items per commit at most (a member is never split; a larger member is committed alone). */
  maxItems: number;
  /**
   * How long a commit waits after its first member arrived for more (default 0: to the end of that
   * event-loop turn). For writers whose cost is per commit and whose readers can wait (statistics): a
   * flow is then written once per `lingerMs`. Once `maxItems` are queued the commit starts at once.
   */
  lingerMs?: number;
}

interface Member<T, R> {
  items: T[];
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  private queue: Member<T, R>[] = [];
  private running = false;
  private scheduled = false;

  constructor(private readonly opts: GroupCommitOptions<T, R>) {}

  /**
   * Resolves with the result of the commit that carried `items`: when they were grouped with others, the
   * result covers every member's items, and the caller picks its own.
   */
  push(items: T[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.schedule();
    });
  }

  private take(): Member<T, R>[] {
    const keys = new Set<string>();
    const group: Member<T, R>[] = [];
    const rest: Member<T, R>[] = [];
    let size = 0;
    for (const m of this.queue) {
      const keyOf = this.opts.keyOf;
      const mine = keyOf === undefined ? [] : m.items.map(keyOf);
      const fits = group.length === 0 || size + m.items.length <= this.opts.maxItems;
      if (!fits || mine.some((k) => keys.has(k))) {
        rest.push(m);
        // Keys held back stay held back: a later member must not overtake an earlier one on the same key.
        for (const k of mine) keys.add(k);
        continue;
      }
      for (const k of mine) keys.add(k);
      group.push(m);
      size += m.items.length;
    }
    this.queue = rest;
    return group;
  }

  private lingering: NodeJS.Timeout | undefined;

  /** Starts the commit of what is queued without waiting for the rest of the linger (a shutdown). */
  flush(): void {
    if (!this.lingering) return;
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.scheduled = false;
    this.pump();
  }

  private schedule(): void {
    if (this.running) return;
    const linger = this.opts.lingerMs ?? 0;
    if (linger > 0 && this.queued() < this.opts.maxItems) {
      if (this.scheduled || this.queue.length === 0) return;
      this.scheduled = true;
      this.lingering = setTimeout(() => {
        this.scheduled = false;
        this.lingering = undefined;
        this.pump();
      }, linger);
      return;
    }
    // A full queue does not wait for the rest of the linger.
    if (this.lingering) {
      clearTimeout(this.lingering);
      this.lingering = undefined;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private queued(): number {
    let n = 0;
    for (const m of this.queue) n += m.items.length;
    return n;
  }

  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    void this.run(this.take()).finally(() => {
      this.running = false;
      this.schedule();
    });
  }

  private async run(group: Member<T, R>[]): Promise<void> {
    if (group.length > 1) {
      try {
        const result = await this.opts.commit(group.flatMap((m) => m.items));
        for (const m of group) m.resolve(result);
        return;
      } catch {
        // Fall through: each member alone, so each gets its own outcome.
      }
    }
    for (const m of group) {
      try {
        m.resolve(await this.opts.commit(m.items));
      } catch (err) {
        m.reject(err);
      }
    }
  }
}
