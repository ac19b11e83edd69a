// The customer side of receipt-bench.ts, in its own process so that the bench's process CPU is ingress's
// alone. Forked by receipt-bench.ts (IPC channel); not meant to be run by hand.
//
// argv: port, receipts, rate (events/s), delivery topic name. Binds one receiver session, reports 'ready',
// waits for 'go', then produces final sms.delivery.v1 events at `rate` per second (its own Kafka
// producer, in 10 ms steps) and reports, once every deliver_sm has arrived, the receipt latencies (event
// produced -> deliver_sm received) and its own CPU time.
import { randomUUID } from 'node:crypto';
import { DeliveryStatus, SmsDelivery, SubmitChannel, topics as registry } from '@smshub/contracts';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { connectSmpp } from '@smshub/smpp';

const [portArg, totalArg, rateArg, topicName] = process.argv.slice(2) as [string, string, string, string];
const [port, total, rate] = [Number(portArg), Number(totalArg), Number(rateArg)];
const send = (m: unknown): void => void process.send?.(m);
const logger = createLogger({ service: 'receipt-load', level: 'warn' });
const kafka = createKafka(
  {
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    clientId: 'receipt-load',
    ssl: false,
  },
  logger,
);
const producer = new TypedProducer(kafka, logger);
await producer.connect();
const topic = { ...registry.delivery, name: topicName };

const sentAt = new Map<string, number>();
const latencies: number[] = [];
let allReceived: () => void = () => undefined;
const receivedAll = new Promise<void>((resolve) => (allReceived = resolve));
const receiver = await connectSmpp({
  host: '127.0.0.1',
  port,
  systemId: 'bench',
  password: 'benchpw',
  bindType: 'receiver',
  window: 10,
  enquireLinkMs: 0,
  handlers: {
    deliver_sm: (pdu) => {
      const id = String((pdu as { receipted_message_id?: string }).receipted_message_id ?? '');
      const t0 = sentAt.get(id);
      if (t0 !== undefined) {
        sentAt.delete(id);
        latencies.push(performance.now() - t0);
        if (latencies.length === total) allReceived();
      }
      return {};
    },
  },
});

function event(id: string): SmsDelivery {
  return SmsDelivery.fromPartial({
    context: {
      messageId: id,
      accountId: 'bench',
      systemId: 'bench',
      customerMessageId: id,
      source: { ton: 5, npi: 0, address: 'Bench' },
      destination: { ton: 1, npi: 1, address: '447700900123' },
      registeredDelivery: 1,
      dataCoding: 0,
      receivedAt: new Date(Date.now() - 5000),
      receiptText: Buffer.from('Your verification code is 123456'),
      channel: SubmitChannel.SUBMIT_CHANNEL_SMPP,
    },
    status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    final: true,
    doneAt: new Date(),
    revision: 2,
    updatedAt: new Date(),
  });
}

await new Promise<void>((resolve) => {
  process.once('message', () => resolve());
  send({ type: 'ready' });
});
const cpu0 = process.cpuUsage();
const start = performance.now();
let produced = 0;
const produces: Promise<unknown>[] = [];
// Every 10 ms, as many events as the rate asks for by then (a steady flow, not one burst per second).
await new Promise<void>((resolve) => {
  const step = (): void => {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
    for (; produced < due; produced++) {
      const id = randomUUID();
      sentAt.set(id, performance.now());
      produces.push(producer.produce(topic, event(id)));
    }
    if (produced < total) setTimeout(step, 10);
    else resolve();
  };
  step();
});
await Promise.all(produces);
await receivedAll;
const cpu = process.cpuUsage(cpu0);
send({
  type: 'done',
  latencies,
  cpuMicros: cpu.user + cpu.system,
  seconds: (performance.now() - start) / 1000,
});
await receiver.unbind();
await producer.close();
process.disconnect();
