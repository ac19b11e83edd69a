// The far side of flow.ts, as its own process so the bench process's CPU is egress's alone: the SMSC
// simulator (libs/smsc-simulator, answering at once with a DELIVRD receipt for every message, as the hub
// bench's simulators do), the paced sms.routed.v1 load, and the reader of sms.dispatched.v1 and
// sms.receipt.raw.v1 that says when every message has its receipt. Talks to flow.ts over IPC:
//   -> { port }                      simulator listening
//   <- { go: true }                  egress is bound: start the load
//   -> { done: true, ... }           every message dispatched and its receipt published (figures)
// argv[2]: JSON { brokers, topics: { routed, dispatched, receiptRaw }, messages, rate }.
import { v7 as uuidv7 } from 'uuid';
import { DispatchOutcome, topics as registry } from '@smshub/contracts';
import { createKafka, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { createSimulator } from '@smshub/smsc-simulator';
import { retryStart } from '../test/retry-start.js';
import { routedMessage } from './routed-load.js';

interface Args {
  brokers: string[];
  topics: { routed: string; dispatched: string; receiptRaw: string };
  messages: number;
  rate: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const send = (m: unknown): void => void process.send?.(m);
const logger = createLogger({ service: 'egress-flow-driver', level: 'warn' });
const kafka = createKafka({ brokers: args.brokers, clientId: `egress-flow-driver-${process.pid}` }, logger);
const topics = {
  routed: { ...registry.routed, name: args.topics.routed },
  dispatched: { ...registry.dispatched, name: args.topics.dispatched },
  receiptRaw: { ...registry.receiptRaw, name: args.topics.receiptRaw },
};

const sim = createSimulator({
  systemId: 'hub',
  password: 'secret',
  seed: 1,
  keepReceived: 0,
  receipts: { mix: { DELIVRD: 1 }, delayMs: 0 },
});
const { port } = await sim.listen(0);

const producer = new TypedProducer(kafka, logger);
await producer.connect();
const sentAt = new Map<string, number>();
/** dispatch key (connector/supplier id) -> produce time of its message */
const byKey = new Map<string, number>();
const receiptLatency: number[] = [];
const dispatchLatency: number[] = [];
let receipts = 0;
let accepted = 0;
let lastAt = 0;
const early = new Set<string>(); // receipts read before their dispatch event

const reader = retryStart(
  new TypedConsumer(kafka, logger, {
    groupId: `${args.topics.routed}-flow-reader`,
    fromBeginning: true,
    producer,
  }),
);
reader.onBatch(topics.dispatched, (rs) => {
  const now = Date.now();
  for (const r of rs) {
    if (r.value.outcome !== DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED) continue;
    const t = sentAt.get(r.value.context!.messageId);
    if (t === undefined) continue;
    accepted++;
    dispatchLatency.push(now - t);
    const k = topics.dispatched.key(r.value);
    if (early.delete(k)) {
      receipts++;
      receiptLatency.push(now - t);
    } else byKey.set(k, t);
  }
});
reader.onBatch(topics.receiptRaw, (rs) => {
  const now = Date.now();
  for (const r of rs) {
    const k = topics.receiptRaw.key(r.value);
    const t = byKey.get(k);
    if (t === undefined) {
      early.add(k);
      continue;
    }
    byKey.delete(k);
    receipts++;
    receiptLatency.push(now - t);
    lastAt = now;
  }
});
const assigned = reader.waitForAssignment();
await reader.start();
await assigned;
send({ port });

await new Promise<void>((resolve) => process.once('message', () => resolve()));
const t0 = Date.now();
const sends: Promise<void>[] = [];
for (let i = 0; i < args.messages; i++) {
  if (args.rate > 0 && i % 10 === 0) {
    const due = t0 + (i * 1000) / args.rate;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  const id = uuidv7();
  sentAt.set(id, Date.now());
  sends.push(producer.produce(topics.routed, routedMessage(i, id)));
  if (sends.length >= 1000) await Promise.all(sends.splice(0));
}
await Promise.all(sends);
const producedMs = Date.now() - t0;
const deadline = Date.now() + 180_000;
while (receipts < args.messages || accepted < args.messages) {
  if (Date.now() > deadline) {
    send({ error: `only ${accepted} dispatched, ${receipts} receipts of ${args.messages} after 180 s` });
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 20));
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
send({
  done: true,
  producedMs,
  elapsedMs: lastAt - t0,
  dispatch: { p50: pct(dispatchLatency, 50), p99: pct(dispatchLatency, 99) },
  receipt: { p50: pct(receiptLatency, 50), p99: pct(receiptLatency, 99) },
  submits: sim.counters,
});
await new Promise<void>((resolve) => process.once('message', () => resolve()));
await reader.stop();
await producer.close();
await sim.close();
process.exit(0);
