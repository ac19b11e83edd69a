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
}

const submitAt = new Date('2026-07-01T00:00:00Z');

/** Produces event `i` of the load. */
export function produceEvent(
  producer: TypedProducer,
  topics: Pick<RatingTopics, 'dispatched' | 'delivery'>,
  load: EventLoad,
  i: number,
): Promise<void> {
  const msisdn = `49${i % 5000}${String(i).padStart(6, '0')}`;
  if (i % 2 === 0) {
    return producer.produce(topics.dispatched, accepted(context(load.accountSubmit, msisdn, submitAt)));
  }
  const c = context(load.accountDelivery, msisdn, submitAt);
  return producer.produce(topics.delivery, finalDelivery(c, DeliveryStatus.DELIVERY_STATUS_DELIVERED));
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
  for (let i = 0; i < load.messages;) {
    const due = Math.min(load.messages, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due; i++) sends.push(produceEvent(producer, topics, load, i));
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(sends);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').at(-1)!)) {
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
