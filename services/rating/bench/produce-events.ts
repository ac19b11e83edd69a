// The load of rated-bench.ts: N rating events, half submit-billed dispatches (sms.dispatched.v1) and half
// delivery-billed final deliveries (sms.delivery.v1). Imported by the bench (backlog: produced before rating
// starts) or run as its own process (live: paced, so the bench's CPU figures are rating's alone).
// As a process, argv[2]: JSON { brokers, dispatched, delivery, accountSubmit, accountDelivery, messages, rate }.
import { DeliveryStatus, topics as registry } from '@smshub/contracts';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { accepted, context, finalDelivery } from '../test/fixtures.js';
import type { RatingTopics } from '../src/rating.js';

export interface EventLoad {
  accountSubmit: string;
  accountDelivery: string;
  messages: number;
  /**
   * The hub's shape: every message has both events, as in the running hub (the demo account is billed on
   * submit, so the dispatch rates it and the final delivery, `HUB_DELIVERY_LAG` messages later, finds it
   * rated). Then `messages` counts messages, and twice as many events are produced.
   */
  hub?: boolean;
}

/** In the hub shape, a message's final delivery follows its dispatch by this many messages' dispatches. */
export const HUB_DELIVERY_LAG = 300;

const submitAt = new Date('2026-07-01T00:00:00Z');

/** Produces event `i` of the load. */
export function produceEvent(
  producer: TypedProducer,
  topics: Pick<RatingTopics, 'dispatched' | 'delivery'>,
  load: EventLoad,
  i: number,
): Promise<void> {
  if (load.hub === true) return produceHubStep(producer, topics, load, i);
  const msisdn = `49${i % 5000}${String(i).padStart(6, '0')}`;
  if (i % 2 === 0) {
    return producer.produce(topics.dispatched, accepted(context(load.accountSubmit, msisdn, submitAt)));
  }
  const c = context(load.accountDelivery, msisdn, submitAt);
  return producer.produce(topics.delivery, finalDelivery(c, DeliveryStatus.DELIVERY_STATUS_DELIVERED));
}

/** Hub shape, step `i`: message i's dispatch and message (i - lag)'s final delivery. */
function produceHubStep(
  producer: TypedProducer,
  topics: Pick<RatingTopics, 'dispatched' | 'delivery'>,
  load: EventLoad,
  i: number,
): Promise<void> {
  const sends: Promise<void>[] = [];
  const ctxOf = (m: number) =>
    context(load.accountSubmit, `49${m % 5000}${String(m).padStart(6, '0')}`, submitAt, {}, hubId(m));
  if (i < load.messages) sends.push(producer.produce(topics.dispatched, accepted(ctxOf(i))));
  const d = i - HUB_DELIVERY_LAG;
  if (d >= 0 && d < load.messages) {
    sends.push(
      producer.produce(topics.delivery, finalDelivery(ctxOf(d), DeliveryStatus.DELIVERY_STATUS_DELIVERED)),
    );
  }
  return Promise.all(sends).then(() => undefined);
}

/** The steps of a load: one per message, or in the hub shape the trailing deliveries' too. */
export function stepsOf(load: EventLoad): number {
  return load.hub === true ? load.messages + HUB_DELIVERY_LAG : load.messages;
}

const runId = Math.floor(Math.random() * 0xffffffff)
  .toString(16)
  .padStart(8, '0');
/** Message m's hub id (both of its events carry it). */
function hubId(m: number): string {
  const n = m.toString(16).padStart(12, '0');
  return `${runId}-0000-4000-8000-${n}`;
}

/** Produces the whole load at `rate` events per second, in 10 ms steps. */
export async function producePaced(
  producer: TypedProducer,
  topics: Pick<RatingTopics, 'dispatched' | 'delivery'>,
  load: EventLoad,
  rate: number,
): Promise<void> {
  const start = performance.now();
  const sends: Promise<void>[] = [];
  const steps = stepsOf(load);
  for (let i = 0; i < steps;) {
    const due = Math.min(steps, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due; i++) sends.push(produceEvent(producer, topics, load, i));
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(sends);
}

// run as the load process (also from a bundle, where this module is inlined into the bench's own)
if (/produce-events\.(ts|mjs)$/.test(process.argv[1] ?? '')) {
  const args = JSON.parse(process.argv[2] ?? '{}') as EventLoad & {
    brokers: string[];
    dispatched: string;
    delivery: string;
    rate: number;
  };
  const logger = createLogger({ service: 'rated-bench-load', level: 'warn' });
  const kafka = createKafka({ brokers: args.brokers, clientId: `rated-bench-load-${process.pid}` }, logger);
  const producer = new TypedProducer(kafka, logger, { lingerMs: 5 });
  await producer.connect();
  await producePaced(
    producer,
    {
      dispatched: { ...registry.dispatched, name: args.dispatched },
      delivery: { ...registry.delivery, name: args.delivery },
    },
    args,
    args.rate,
  );
  await producer.close();
}
