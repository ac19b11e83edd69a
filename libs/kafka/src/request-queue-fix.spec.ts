import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkajsRequestQueue, REQUEST_TIMEOUT_CHECK_MS } from './request-queue-fix.js';

const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const queues: Array<InstanceType<typeof KafkajsRequestQueue>> = [];
function queue(enforceRequestTimeout = false) {
  const q = new KafkajsRequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout,
    clientId: 'spec',
    broker: 'localhost:9092',
    logger,
  });
  queues.push(q);
  return q;
}

afterEach(() => {
  for (const q of queues.splice(0)) q.destroy();
  vi.useRealTimers();
});

describe("kafkajs's RequestQueue, patched", () => {
  it('schedules no check while nothing is pending and nothing throttles (no 1 ms timer loop when idle)', () => {
    const q = queue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still schedules a check for a pending request, and for the end of a throttle', () => {
    const q = queue();
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();

    const t = queue();
    t.throttledUntil = Date.now() + 1_000;
    t.scheduleCheckPendingRequests();
    expect(t.throttleCheckTimeoutId).not.toBeNull();
  });

  it('checks in-flight requests for their timeout once a second, not every 100 ms', () => {
    vi.useFakeTimers();
    const q = queue(true);
    q.scheduleRequestTimeoutCheck();
    let timedOut = 0;
    // A request already past its timeout: the next check times it out.
    q.inflight.set(1, {
      sentAt: Date.now() - 60_000,
      requestTimeout: 30_000,
      timeoutRequest: () => timedOut++,
    });
    vi.advanceTimersByTime(REQUEST_TIMEOUT_CHECK_MS - 1);
    expect(timedOut).toBe(0); // kafkajs's own interval had checked 9 times by now
    vi.advanceTimersByTime(1);
    expect(timedOut).toBe(1);
    q.destroy();
    vi.advanceTimersByTime(5 * REQUEST_TIMEOUT_CHECK_MS);
    expect(timedOut).toBe(1); // destroy() (disconnect) stops the checks
  });
});
