// Works webhook_deliveries: claims due rows, POSTs them (signed), records each attempt and schedules the
// next one. Concurrency is bounded per replica (`concurrency`) and per account (`perAccount`): an account
// whose receiver is slow or dead holds at most `perAccount` slots (each for at most `timeoutMs`), and its
// rows are not even claimed while it is at its limit, so other accounts' deliveries go on at once.
import type { Logger } from '@smshub/logging';
import { nextAttempt, isDelivered, type BackoffPolicy } from './domain/backoff.js';
import { signatureHeader } from './domain/signature.js';
import type { EndpointStore } from './endpoints.js';
import type { AttemptOutcome, DeliveryRow, DeliveryStore } from './store.js';
import { attemptDuration, attemptsTotal, deliveriesFailed, inFlight } from './metrics.js';

export interface DispatcherOptions {
  concurrency: number;
  perAccount: number;
  timeoutMs: number;
  pollMs: number;
  backoff: BackoffPolicy;
  userAgent?: string;
}

export class Dispatcher {
  private readonly running = new Map<string, number>();
  private total = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  private stopped = true;
  private readonly inFlightAttempts = new Set<Promise<void>>();
  private readonly log: Logger;

  constructor(
    private readonly store: DeliveryStore,
    private readonly endpoints: EndpointStore,
    private readonly opts: DispatcherOptions,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'dispatcher' });
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.wake();
  }

  /** Stops claiming and waits for the attempts in flight (each ends within timeoutMs). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlightAttempts]);
  }

  /** Looks for due work now (after new deliveries were stored, or a slot freed). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    void this.tick()
      .catch((err: unknown) => this.log.warn({ err }, 'claiming webhook deliveries failed; retried'))
      .finally(() => {
        this.ticking = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async tick(): Promise<void> {
    const free = this.opts.concurrency - this.total;
    if (free <= 0 || this.stopped) return;
    const busy = [...this.running].filter(([, n]) => n >= this.opts.perAccount).map(([a]) => a);
    const rows = await this.store.claim({
      limit: free,
      leaseMs: this.opts.timeoutMs + 30_000,
      busyAccounts: busy,
    });
    const extra: string[] = [];
    for (const row of rows) {
      const n = this.running.get(row.account_id) ?? 0;
      if (n >= this.opts.perAccount || this.total >= this.opts.concurrency || this.stopped) {
        extra.push(row.id);
        continue;
      }
      this.running.set(row.account_id, n + 1);
      this.total++;
      inFlight.set(this.total);
      const p: Promise<void> = this.attempt(row)
        .catch((err: unknown) =>
          this.log.error(
            { err, deliveryId: row.id },
            'recording a webhook attempt failed; the lease expires and it is retried',
          ),
        )
        .finally(() => {
          const left = (this.running.get(row.account_id) ?? 1) - 1;
          if (left <= 0) this.running.delete(row.account_id);
          else this.running.set(row.account_id, left);
          this.total--;
          inFlight.set(this.total);
          this.inFlightAttempts.delete(p);
          this.wake();
        });
      this.inFlightAttempts.add(p);
    }
    await this.store.release(extra);
    // Rows were left behind because an account filled up: claim again without it.
    if (extra.length > 0) this.again = true;
  }

  private async attempt(row: DeliveryRow): Promise<void> {
    const startedAt = new Date();
    const endpoint = await this.endpoints.get(row.account_id);
    let httpStatus: number | null = null;
    let error: string | null = null;
    const url = row.url || endpoint?.url || '';
    if (!endpoint || !endpoint.enabled || !url) {
      error = !endpoint ? 'the account has no webhook endpoint' : 'the account webhook is disabled';
    } else {
      const t = Math.floor(Date.now() / 1000);
      try {
        const res = await fetch(url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'user-agent': this.opts.userAgent ?? 'smshub-webhooks/1',
            'smshub-signature': signatureHeader(endpoint.secrets, t, row.body),
            'smshub-delivery-id': row.id,
            'smshub-event': row.event_type,
          },
          body: row.body,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        httpStatus = res.status;
        // The answer's body is not needed; reading it frees the connection for keep-alive.
        await res.arrayBuffer().catch(() => undefined);
        if (!isDelivered(httpStatus)) error = `HTTP ${httpStatus}`;
      } catch (err) {
        error = describe(err, this.opts.timeoutMs);
      }
    }
    const durationMs = Date.now() - startedAt.getTime();
    attemptDuration.observe(durationMs / 1000);
    const delivered = isDelivered(httpStatus);
    attemptsTotal.inc({
      outcome: delivered ? 'delivered' : httpStatus === null ? 'no_answer' : 'http_error',
    });
    let next: AttemptOutcome['next'];
    if (delivered) next = { state: 'delivered' };
    // The endpoint was deleted: nothing will ever take it (a paused one is retried, it may come back).
    else if (!endpoint && !row.url) next = { state: 'failed' };
    else {
      const step = nextAttempt({
        policy: this.opts.backoff,
        attempts: row.attempts + 1,
        now: new Date(),
        giveUpAt: row.give_up_at,
      });
      next = step.kind === 'retry' ? { state: 'pending', nextAt: step.at } : { state: 'failed' };
      if (next.state === 'failed') {
        deliveriesFailed.inc();
        this.log.warn({ deliveryId: row.id, accountId: row.account_id, error }, 'webhook delivery given up');
      }
    }
    await this.store.record(row, { startedAt, durationMs, httpStatus, error, next });
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`.slice(0, 300);
    return err.message.slice(0, 300);
  }
  return String(err).slice(0, 300);
}
