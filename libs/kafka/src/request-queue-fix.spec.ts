import { afterEach, describe, expect, it } from 'vitest';
import { KafkajsRequestQueue } from './request-queue-fix.js';

const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const queues: Array<InstanceType<typeof KafkajsRequestQueue>> = [];
function queue() {
  const q = new KafkajsRequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: 'localhost:9092',
    logger,
  });
  queues.push(q);
  return q;
}

afterEach(() => {
  for (const q of queues.splice(0)) q.destroy();
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
});
