/**
 * The message id a customer sees (submit_sm_resp, receipts, query_sm), per the account's
 * `message_id_format`:
 * - `uuid` (and empty, the default): the hub message id itself, a 36-character UUIDv7.
 * - `decimal` / `hex`: a number from 1 to 2^63 - 1, unique across every ingress replica, written in
 *   decimal (at most 19 digits) or lowercase hex (at most 16 digits). Clients that parse message ids as
 *   64-bit integers (Kannel with `msg-id-type` set, some billing systems) keep every id distinct; a UUID
 *   parsed that way stops at its first non-digit and collides with every id of the same minute.
 *
 * Numbers come from one PostgreSQL sequence in blocks (`ingress_customer_ids`, INCREMENT BY the block
 * size): a replica takes a block ahead of need and hands its numbers out without a database round trip
 * per message. A block not used up before a restart leaves a gap, never a repeat.
 */
import type { Pool } from 'pg';

export type MessageIdFormat = 'uuid' | 'decimal' | 'hex';

/** Numbers per block; must equal the sequence's INCREMENT BY (0103_ingress_customer_ids.sql). */
export const CUSTOMER_ID_BLOCK = 10_000;

/** The account column's value as a format ('' and unknown values are the hub id). */
export function messageIdFormatOf(column: string | null | undefined): MessageIdFormat {
  return column === 'decimal' || column === 'hex' ? column : 'uuid';
}

/** A number in the customer's format. */
export function formatCustomerId(n: bigint, format: Exclude<MessageIdFormat, 'uuid'>): string {
  return format === 'hex' ? n.toString(16) : n.toString(10);
}

/** Where blocks come from: resolves to the first number of a new block. */
export type BlockSource = () => Promise<bigint>;

export function pgBlockSource(pool: Pool): BlockSource {
  return async () => {
    const r = await pool.query<{ start: string }>(`SELECT nextval('ingress_customer_ids')::text AS start`);
    return BigInt(r.rows[0]!.start);
  };
}

/**
 * Hands out numbers from the current block and fetches the next block when half of the current one is
 * used, so `next()` stays synchronous while the database answers within the time half a block takes.
 */
export class CustomerIdAllocator {
  private current: { next: bigint; end: bigint } | undefined;
  private spare: { next: bigint; end: bigint } | undefined;
  private fetching: Promise<void> | undefined;
  private lastError: Error | undefined;

  constructor(
    private readonly source: BlockSource,
    private readonly blockSize: number = CUSTOMER_ID_BLOCK,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  /** Fetches the first block; call once at start (a failure is retried by later calls). */
  async start(): Promise<void> {
    this.refill();
    await this.fetching;
  }

  /** The customer id of a new message, or undefined when no number is available right now. */
  next(hubId: string, format: MessageIdFormat): string | undefined {
    if (format === 'uuid') return hubId;
    if (!this.current || this.current.next >= this.current.end) {
      this.current = this.spare;
      this.spare = undefined;
    }
    const block = this.current;
    if (!block || block.next >= block.end) {
      this.refill();
      return undefined;
    }
    const n = block.next++;
    if (!this.spare && block.end - block.next <= BigInt(this.blockSize) / 2n) this.refill();
    return formatCustomerId(n, format);
  }

  /** The last error of a block fetch, while no block could be fetched since. */
  get error(): Error | undefined {
    return this.lastError;
  }

  private refill(): void {
    if (this.fetching) return;
    this.fetching = this.source()
      .then((start) => {
        const block = { next: start, end: start + BigInt(this.blockSize) };
        if (!this.current || this.current.next >= this.current.end) this.current = block;
        else this.spare = block;
        this.lastError = undefined;
      })
      .catch((err: unknown) => {
        this.lastError = err as Error;
        this.onError(err as Error);
      })
      .finally(() => {
        this.fetching = undefined;
      });
  }
}
