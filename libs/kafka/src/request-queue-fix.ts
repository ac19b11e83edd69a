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
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  isConnected(): boolean;
  destroy(): void;
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

// Second patch: kafkajs checks its in-flight requests for a timeout every min(requestTimeout, 100) ms per
// broker connection, from connect to disconnect (an interval per connection whether or not a request is in
// flight: ten wake-ups a second each, and a hub process holds a dozen connections: its producer's, each
// consumer's, their group coordinators'). Every request's timeout is at least requestTimeout (30 s,
// client.ts; kafkajs takes the larger of it and a request's own), so checking once a second instead
// enforces a 30 s timeout within 31 s instead of 30.1 s, with a tenth of the wake-ups. Same check, same
// disconnect handling; only the period changes.
export const REQUEST_TIMEOUT_CHECK_MS = 1000;
const TIMEOUT_PATCHED = Symbol.for('smshub.kafkajs.requestQueue.timeoutCheck');
const ORIGINAL_TIMEOUT_CHECK = Symbol.for('smshub.kafkajs.requestQueue.timeoutCheck.original');
const tproto = RequestQueue.prototype as RequestQueueLike & {
  [TIMEOUT_PATCHED]?: true;
  [ORIGINAL_TIMEOUT_CHECK]?: () => void;
};
if (!tproto[TIMEOUT_PATCHED]) {
  tproto[ORIGINAL_TIMEOUT_CHECK] = tproto.scheduleRequestTimeoutCheck; // libs/kafka/bench --unpatched
  tproto.scheduleRequestTimeoutCheck = function scheduleRequestTimeoutCheck(this: RequestQueueLike) {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(
      () => {
        this.inflight.forEach((request) => {
          if (Date.now() - request.sentAt > request.requestTimeout) request.timeoutRequest();
        });
        if (!this.isConnected()) this.destroy();
      },
      Math.min(REQUEST_TIMEOUT_CHECK_MS, this.requestTimeout),
    );
  };
  tproto[TIMEOUT_PATCHED] = true;
}

/** kafkajs's RequestQueue class (patched), for the spec. */
export const KafkajsRequestQueue = RequestQueue as unknown as new (opts: {
  maxInFlightRequests: number | null;
  requestTimeout: number;
  enforceRequestTimeout: boolean;
  clientId: string;
  broker: string;
  logger: unknown;
  isConnected?: () => boolean;
}) => RequestQueueLike & { checkPendingRequests(): void };
