// A consumer that batches (minBytes above 1 with a short maxWaitMs, e.g. the receipt path's 64 KiB or
// 50 ms) pays for that wait when there is no traffic: the broker answers each fetch empty after maxWaitMs,
// i.e. ~20 fetch requests a second at 50 ms, each ~1.4 ms of client CPU plus the broker's, forever (issue
// 17: the idle hub's largest cost). Patched once, when this lib is loaded: a kafkajs ConsumerGroup whose
// group was registered with `idleMaxWaitMs` (TypedConsumer does it) switches, after a fetch that found no
// record, to minBytes 1 and that longer wait; the first record then answers the fetch at once (no latency
// added: less than the batching wait, in fact), and the next fetch is back to the configured minBytes and
// maxWaitMs. Under a flow every fetch finds records, so the batching is unchanged. What it costs: stop()
// and noticing a rebalance of an idle member wait for the fetch in flight, up to `idleMaxWaitMs`, as for a
// consumer on the library's default wait.
import { createRequire } from 'node:module';

interface BatchLike {
  isEmpty(): boolean;
}
interface ConsumerGroupLike {
  groupId: string;
  minBytes: number;
  maxWaitTime: number;
  fetch(nodeId: number): Promise<BatchLike[]>;
}
interface IdleState {
  idleMaxWaitMs: number;
  busy?: { minBytes: number; maxWaitTime: number };
  idle: boolean;
}

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: ConsumerGroupLike };

/** Groups of this process with an idle wait, by group id (see registerIdleWait). */
const idleWaits = new Map<string, number>();
const STATE = Symbol.for('smshub.kafkajs.consumerGroup.idleFetch.state');
const PATCHED = Symbol.for('smshub.kafkajs.consumerGroup.idleFetch');

/**
 * Fetches of `groupId`'s members in this process wait up to `idleMaxWaitMs` with minBytes 1 once a fetch
 * found no record (undefined: the configured settings always).
 */
export function registerIdleWait(groupId: string, idleMaxWaitMs: number | undefined): void {
  if (idleMaxWaitMs === undefined) idleWaits.delete(groupId);
  else idleWaits.set(groupId, idleMaxWaitMs);
}

const proto = ConsumerGroup.prototype as ConsumerGroupLike & { [PATCHED]?: true };
if (!proto[PATCHED]) {
  const original = proto.fetch;
  proto.fetch = async function fetch(this: ConsumerGroupLike & { [STATE]?: IdleState }, nodeId: number) {
    const idleMaxWaitMs = idleWaits.get(this.groupId);
    if (idleMaxWaitMs === undefined) return original.call(this, nodeId);
    const st = (this[STATE] ??= {
      idleMaxWaitMs,
      busy: { minBytes: this.minBytes, maxWaitTime: this.maxWaitTime },
      idle: false,
    });
    const busy = st.busy ?? { minBytes: this.minBytes, maxWaitTime: this.maxWaitTime };
    if (st.idle) {
      this.minBytes = 1;
      this.maxWaitTime = Math.max(idleMaxWaitMs, busy.maxWaitTime);
    } else {
      this.minBytes = busy.minBytes;
      this.maxWaitTime = busy.maxWaitTime;
    }
    const batches = await original.call(this, nodeId);
    // No request at all (no partition ready yet) returns []: not a sign of idleness.
    st.idle = batches.length > 0 && batches.every((b) => b.isEmpty());
    return batches;
  };
  proto[PATCHED] = true;
}
