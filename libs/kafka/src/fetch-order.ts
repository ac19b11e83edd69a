// The order in which one fetch's batches (one per partition of each topic) are handed to a consumer's
// workers (`partitionsConsumedConcurrently` of them take the batches first come, first served). kafkajs
// keeps the order of the broker's answer, which follows the group's assignment and mixes the topics. A
// consumer whose handlers of one topic are best run after those of another (dlr: a receipt after the
// dispatch it answers, when both are in the same fetch) names the first ones (`ConsumerOptions.firstTopics`):
// their batches are moved to the front of each fetch, the others keep their order. Patched once, when this
// lib is loaded, around kafkajs's ConsumerGroup.fetch (after idle-fetch.ts's patch, whose state it leaves
// alone); groups that registered no order are not touched.
import { createRequire } from 'node:module';

interface BatchLike {
  topic: string;
}
interface ConsumerGroupLike {
  groupId: string;
  fetch(nodeId: number): Promise<BatchLike[]>;
}

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: ConsumerGroupLike };

/** Topics whose batches come first in a fetch, by group id (see registerFirstTopics). */
const firstTopics = new Map<string, ReadonlySet<string>>();
const PATCHED = Symbol.for('smshub.kafkajs.consumerGroup.fetchOrder');

/** The batches of `topics` come first in each fetch of `groupId`'s members in this process (none: as fetched). */
export function registerFirstTopics(groupId: string, topics: readonly string[] | undefined): void {
  if (topics === undefined || topics.length === 0) firstTopics.delete(groupId);
  else firstTopics.set(groupId, new Set(topics));
}

/** `batches` with those of `first` moved to the front, each part in its order (a new array only if needed). */
export function firstTopicsFirst<B extends BatchLike>(batches: B[], first: ReadonlySet<string>): B[] {
  let seenOther = false;
  let needed = false;
  for (const b of batches) {
    if (!first.has(b.topic)) seenOther = true;
    else if (seenOther) {
      needed = true;
      break;
    }
  }
  if (!needed) return batches;
  return [...batches.filter((b) => first.has(b.topic)), ...batches.filter((b) => !first.has(b.topic))];
}

const proto = ConsumerGroup.prototype as ConsumerGroupLike & { [PATCHED]?: true };
if (!proto[PATCHED]) {
  const original = proto.fetch;
  proto.fetch = async function fetch(this: ConsumerGroupLike, nodeId: number) {
    const batches = await original.call(this, nodeId);
    const first = firstTopics.get(this.groupId);
    return first === undefined ? batches : firstTopicsFirst(batches, first);
  };
  proto[PATCHED] = true;
}
