// Parameterised statements as named prepared statements (issue 17: PostgreSQL's CPU per message).
//
// node-pg sends a query with parameters as an unnamed statement: PostgreSQL parses, analyses and plans its
// text at every call. The hub's hot statements are long (multi-row upserts over unnest() of array
// parameters, CTEs) and run hundreds of times a second, so that work was 10-15 % of PostgreSQL's CPU in the
// component benches (docs/performance.md, session 11). A client of this pool gives each statement text it
// has seen a few times a name: the connection parses and analyses it once. createPool starts the
// connections with plan_cache_mode=force_custom_plan, so every execution is still planned for its own
// parameters (PostgreSQL's generic plan misjudged unnest() of an array parameter; pool.ts).
//
// What stays unnamed: statements without parameters (BEGIN, COMMIT, migrations), texts seen fewer than
// PREPARE_AFTER times (one-off and dynamic SQL), texts whose result columns are `*` (`SELECT *`, `RETURNING *`:
// a column added by a migration would change a prepared statement's result type, which PostgreSQL refuses), and every text once
// a connection holds MAX_PER_CONNECTION of them (PostgreSQL keeps each one's plan in the backend).
// If a prepared statement's result type still changes under it (a column's type altered), PostgreSQL
// answers `cached plan must not change result type` (0A000): that call fails as before, and the connection
// then prepares its statements under new names, so the next call works.
import pg from 'pg';

/** A text is prepared once the process has run it this many times. */
export const PREPARE_AFTER = 3;
/** At most this many named statements per connection; beyond, statements run unnamed. */
export const MAX_PER_CONNECTION = 200;
/** At most this many distinct texts counted per process (the counts of dynamic SQL stay bounded). */
const MAX_TEXTS = 2_000;

/**
 * Whether a statement's result columns come from a `*` (`SELECT * FROM t`, `SELECT a, t.* FROM t`,
 * `RETURNING p.*`): not prepared. A `*` inside the statement (`INSERT ... SELECT * FROM unnest(...)`) is not
 * its result and does not count.
 */
export function starResult(text: string): boolean {
  return (
    /\bRETURNING\s+(?:[^;]*?,\s*)?(?:"?\w+"?\.)?\*/i.test(text) ||
    /^\s*SELECT\s+(?:DISTINCT\s+)?(?:[^;]*?,\s*)?(?:"?\w+"?\.)?\*\s*(?:,|\bFROM\b)/i.test(text)
  );
}

/** Process-wide: how often each text ran, and its id once it is to be prepared. */
class Texts {
  private readonly seen = new Map<string, number>();
  private readonly ids = new Map<string, number>();

  /** The text's id when it is to run as a named statement, else undefined. */
  idOf(text: string): number | undefined {
    const id = this.ids.get(text);
    if (id !== undefined) return id;
    const n = (this.seen.get(text) ?? 0) + 1;
    if (n < PREPARE_AFTER) {
      if (this.seen.size < MAX_TEXTS || this.seen.has(text)) this.seen.set(text, n);
      return undefined;
    }
    this.seen.delete(text);
    if (starResult(text) || this.ids.size >= MAX_TEXTS) return undefined;
    const fresh = this.ids.size + 1;
    this.ids.set(text, fresh);
    return fresh;
  }
}

const texts = new Texts();

interface QueryConfigLike {
  text: string;
  values?: unknown[];
  name?: string;
  submit?: unknown;
  [k: string]: unknown;
}

type Callback = (err: Error | null, res?: unknown) => void;
type QueryFn = (this: pg.Client, ...args: unknown[]) => unknown;
/** pg.Client's own query, looked up at each call (a bench may wrap it to count statements). */
const baseQuery: {
  apply(c: pg.Client, a: unknown[]): unknown;
  call(c: pg.Client, ...a: unknown[]): unknown;
} = {
  apply: (c, a) => (pg.Client.prototype.query as unknown as QueryFn).apply(c, a),
  call: (c, ...a) => (pg.Client.prototype.query as unknown as QueryFn).apply(c, a),
};

const RESULT_TYPE_CHANGED = 'cached plan must not change result type';

/** A pg.Client that runs its frequent parameterised statements as named prepared statements. */
export class PreparingClient extends pg.Client {
  /** Named statements this connection has (node-pg parses each once per connection). */
  private prepared = new Set<string>();
  /** Bumped when a prepared statement's result type changed: every text is prepared again, renamed. */
  private epoch = 0;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's overloads, passed through as they are
  override query(...args: any[]): any {
    const [config, values, callback] = args as [unknown, unknown, unknown];
    let text: string | undefined;
    let params: unknown[] | undefined;
    let rest: QueryConfigLike | undefined;
    let cb: Callback | undefined;
    if (typeof config === 'string') {
      text = config;
      if (Array.isArray(values)) {
        params = values;
        cb = typeof callback === 'function' ? (callback as Callback) : undefined;
      }
    } else if (config !== null && typeof config === 'object') {
      const c = config as QueryConfigLike;
      if (typeof c.text === 'string' && c.name === undefined && typeof c.submit !== 'function') {
        text = c.text;
        rest = c;
        params = Array.isArray(values) ? values : c.values;
        cb =
          typeof values === 'function'
            ? (values as Callback)
            : typeof callback === 'function'
              ? (callback as Callback)
              : undefined;
      }
    }
    const id = text !== undefined && params !== undefined && params.length > 0 ? texts.idOf(text) : undefined;
    if (id === undefined) return baseQuery.apply(this, args);
    const name = `smshub_${id}_${this.epoch}`;
    if (!this.prepared.has(name)) {
      if (this.prepared.size >= MAX_PER_CONNECTION) return baseQuery.apply(this, args);
      this.prepared.add(name);
    }
    const named = { ...rest, text, values: params, name };
    const epoch = this.epoch;
    const onError = (err: unknown): void => {
      if (
        err instanceof Error &&
        (err as { code?: string }).code === '0A000' &&
        err.message.includes(RESULT_TYPE_CHANGED) &&
        this.epoch === epoch
      ) {
        this.epoch++;
        this.prepared = new Set();
      }
    };
    if (cb) {
      const done = cb;
      return baseQuery.call(this, named, (err: Error | null, res?: unknown) => {
        if (err) onError(err);
        done(err, res);
      });
    }
    return (baseQuery.call(this, named) as Promise<unknown>).catch((err: unknown) => {
      onError(err);
      throw err;
    });
  }
}
