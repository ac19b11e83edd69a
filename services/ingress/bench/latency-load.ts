// The customer side of latency-bench.ts, in its own process so that the bench's process CPU is ingress's
// alone. Forked by latency-bench.ts (IPC channel); not meant to be run by hand.
//
// argv: port, rate (submit_sm/s), seconds, binds, delivery topic name ('' = no receipts), warm-up seconds.
// Binds `binds` transceivers, runs the flow below for the warm-up seconds (not counted), reports 'ready',
// waits for 'go', then submits single-part messages at `rate`
// per second, paced as tools/loadgen paces (one 5 ms ticker releasing what accrued, FIFO), and for every
// accepted message produces its final sms.delivery.v1 event at once (its own Kafka producer, as dlr would),
// so ingress sends a receipt deliver_sm per message while it takes submits: the hub's two paths together.
// Reports every submit_sm_resp latency with the message id, the receipt latencies (submit_sm_resp ->
// deliver_sm) and its own CPU time.
import { DeliveryStatus, SmsDelivery, SubmitChannel, topics as registry } from '@smshub/contracts';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { connectSmpp, type SmppSession } from '@smshub/smpp';

const [portArg, rateArg, secondsArg, bindsArg, topicName, warmupArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];
const warmup = Number(warmupArg ?? 0);
const [port, rate, seconds, binds] = [Number(portArg), Number(rateArg), Number(secondsArg), Number(bindsArg)];
const send = (m: unknown): void => void process.send?.(m);
const logger = createLogger({ service: 'latency-load', level: 'warn' });
const kafka = createKafka(
  {
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    clientId: 'latency-load',
    ssl: false,
  },
  logger,
);
const producer = new TypedProducer(kafka, logger);
await producer.connect();
const topic = topicName ? { ...registry.delivery, name: topicName } : undefined;

const respondedAt = new Map<string, number>();
const receiptLatencies: number[] = [];
let expectedReceipts = -1;
let receiptsDone: () => void = () => undefined;
const allReceipts = new Promise<void>((resolve) => (receiptsDone = resolve));
const checkReceipts = (): void => {
  if (expectedReceipts >= 0 && receiptLatencies.length >= expectedReceipts) receiptsDone();
};

const sessions: SmppSession[] = [];
for (let i = 0; i < binds; i++)
  sessions.push(
    await connectSmpp({
      host: '127.0.0.1',
      port,
      systemId: 'bench',
      password: 'benchpw',
      bindType: 'transceiver',
      window: 100,
      inboundWindow: 200,
      enquireLinkMs: 0,
      handlers: {
        deliver_sm: (pdu) => {
          const id = String((pdu as { receipted_message_id?: string }).receipted_message_id ?? '');
          const t0 = respondedAt.get(id);
          if (t0 !== undefined) {
            respondedAt.delete(id);
            receiptLatencies.push(performance.now() - t0);
            checkReceipts();
          }
          return {};
        },
      },
    }),
  );

const msg = {
  source_addr: 'Bench',
  source_addr_ton: 5,
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '447700900123',
  registered_delivery: 1,
  short_message: Buffer.from('Your verification code is 123456'),
};

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
      receivedAt: new Date(),
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

// Warm-up (connections, metadata, JIT), not counted; their receipts are not awaited.
await Promise.all(sessions.map((s) => s.submit(msg)));

const ids: string[] = [];
const latencies: number[] = [];
let failed = 0;
const produces: Promise<unknown>[] = [];

/**
 * Submits at `rate` for `forSeconds`, paced as tools/loadgen paces (one 5 ms ticker releases the permits
 * that accrued, at most 100 ms of them), 100 workers per bind (loadgen's window): a submit waits only for
 * its permit, never for another submit. `record`: latencies and receipts counted (false: warm-up).
 */
async function run(forSeconds: number, record: boolean): Promise<number> {
  const start = performance.now();
  const end = start + forSeconds * 1000;
  const waiters: Array<() => void> = [];
  let credit = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    credit = Math.min(credit + ((now - last) * rate) / 1000, Math.max(1, rate / 10));
    last = now;
    // The run is over: every waiting worker is released (and returns).
    if (now >= end) credit = waiters.length;
    while (credit >= 1 && waiters.length > 0) {
      credit -= 1;
      waiters.shift()!();
    }
  }, 5);
  const worker = async (s: SmppSession): Promise<void> => {
    for (;;) {
      await new Promise<void>((resolve) => waiters.push(resolve));
      if (performance.now() >= end) return;
      const t0 = performance.now();
      try {
        const resp = await s.submit(msg);
        const t1 = performance.now();
        const id = String(resp.message_id ?? '');
        if (record) {
          ids.push(id);
          latencies.push(t1 - t0);
          if (topic) respondedAt.set(id, t1);
        }
        if (topic) produces.push(producer.produce(topic, event(id)));
      } catch {
        if (record) failed++;
      }
    }
  };
  await Promise.all(sessions.flatMap((s) => Array.from({ length: 100 }, () => worker(s))));
  clearInterval(ticker);
  return (performance.now() - start) / 1000;
}

// The same flow for `warmup` seconds first (JIT, pools, batch sizes settle), not counted.
if (warmup > 0) await run(warmup, false);

await new Promise<void>((resolve) => {
  process.once('message', () => resolve());
  send({ type: 'ready' });
});

const cpu0 = process.cpuUsage();
const submitSeconds = await run(seconds, true);
await Promise.all(produces);
if (topic) {
  expectedReceipts = latencies.length;
  checkReceipts();
  await Promise.race([allReceipts, new Promise((r) => setTimeout(r, 60_000))]);
}
const cpu = process.cpuUsage(cpu0);
// Awaited: a large message still being written when process.disconnect() closes the channel is dropped.
await new Promise<void>(
  (resolve) =>
    void process.send?.(
      {
        type: 'done',
        ids,
        latencies,
        receiptLatencies,
        failed,
        submitSeconds,
        cpuMicros: cpu.user + cpu.system,
      },
      () => resolve(),
    ),
);
for (const s of sessions) await s.unbind();
await producer.close();
process.disconnect();
