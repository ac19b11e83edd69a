import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** A name no other test (or earlier run) uses: `<prefix>_<time36>_<random>`, safe for topics, groups, databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase();
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited, in the timeout error. */
  what?: string;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, and returns that value.
 * Throws with `what` and the last error when the timeout passes. Use instead of sleeps.
 * The default timeout (30 s) is for a 2-core CI machine running several test files at once, where a
 * consumer group join plus a Kafka round trip can take more than 15 s; a passing wait returns as soon as the
 * condition holds, so only a failure is slower.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<Exclude<T, false | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}${why}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Kafka brokers of this test run (from the integration project's global setup). */
export function testKafkaBrokers(): string[] {
  const brokers = inject('kafkaBrokers');
  if (!brokers?.length)
    throw new Error(
      'no Kafka for this test: run it in the integration project without SMSHUB_TEST_INFRA=none',
    );
  return brokers;
}

/** Admin database URL of this test run (from the integration project's global setup). */
export function testDatabaseUrl(): string {
  const url = inject('databaseUrl');
  if (!url)
    throw new Error(
      'no Postgres for this test: run it in the integration project without SMSHUB_TEST_INFRA=none',
    );
  return url;
}
