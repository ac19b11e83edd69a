// kafkajs 2.2.4 (its last release) wakes every process 1,000 times a second per broker connection, forever:
// its RequestQueue reschedules `checkPendingRequests` after each check even when nothing is pending, and
// with no throttle (`throttledUntil` -1) the delay is negative, i.e. Node's 1 ms (kafkajs issues #1556,
// #1604, #1704; the fix of PR #1667 never merged). An idle hub process spent ~20 CPU-ms a second in it
// (strace: ~1,350 epoll_pwait calls a second in an idle admin, timeouts 0 and 1 ms). Patched once, when this
// lib is loaded: with nothing pending and no throttle in effect, no check is scheduled; the next request
// that has to wait (push) schedules one again, and a throttle or a pending request keeps kafkajs's own
// behaviour.
import { createRequire } from 'node:module';

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  prototype: RequestQueueLike;
};

const PATCHED = Symbol.for('smshub.kafkajs.requestQueue.idleCheck');
const proto = RequestQueue.prototype as RequestQueueLike & { [PATCHED]?: true };
if (!proto[PATCHED]) {
  const original = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    original.call(this);
  };
  proto[PATCHED] = true;
}

/** kafkajs's RequestQueue class (patched), for the spec. */
export const KafkajsRequestQueue = RequestQueue as unknown as new (opts: {
  maxInFlightRequests: number | null;
  requestTimeout: number;
  enforceRequestTimeout: boolean;
  clientId: string;
  broker: string;
  logger: unknown;
}) => RequestQueueLike & { checkPendingRequests(): void; destroy(): void };
