// Postgres errors carry no `retriable` flag; a Kafka consumer would give them up after a few attempts and
// dead-letter its events during a database restart. This wrapper says which ones a retry can fix
// (moved here from services/rating, which uses it for its CDRs; routing for its firewall windows).

const RETRIABLE_SQLSTATE_CLASSES = new Set([
  '08', // connection exception
  '40', // transaction rollback: serialization failure, deadlock
  '53', // insufficient resources (too many connections, disk full)
  '57', // operator intervention (admin shutdown, cannot connect now, query canceled by statement_timeout)
  '58', // system error (I/O)
]);

const RETRIABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export class StoreError extends Error {
  readonly retriable: boolean;
  constructor(what: string, cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${what}: ${message}`, { cause });
    this.name = 'StoreError';
    this.retriable =
      typeof code === 'string'
        ? RETRIABLE_SQLSTATE_CLASSES.has(code.slice(0, 2)) || RETRIABLE_NODE_CODES.has(code)
        : // pg's own connection errors have no code ("Connection terminated unexpectedly", "timeout
          // exceeded when trying to connect"); a bug (TypeError...) is not retried forever
          !(cause instanceof TypeError || cause instanceof RangeError) &&
          /connect|terminat|timeout/i.test(message);
  }
}

/** Runs `fn`, turning any error into a StoreError that says whether retrying can help. */
export async function store<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(what, err);
  }
}
