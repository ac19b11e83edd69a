// The load of pipeline-bench.ts, in its own process so that the bench's CPU figures are dlr's alone:
// per message one sms.submitted.v1, one sms.routed.v1, one sms.dispatched.v1 and one sms.receipt.raw.v1 record.
// argv[2]: JSON { brokers, submitted, routed, dispatched, receiptRaw, messages, rate?, receiptLagMs?,
// receiptAfterAck? } (topic names); with `rate`, messages are produced at that many per second (in 20 ms
// steps) instead of as fast as possible.
import { randomBytes } from 'node:crypto';
import {
  DispatchOutcome,
  SmsRouted,
  SmsDispatched,
  SmsReceiptRaw,
  SmsSubmitted,
  topics as registry,
} from '@smshub/contracts';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  brokers: string[];
  submitted: string;
  routed: string;
  dispatched: string;
  receiptRaw: string;
  messages: number;
  rate?: number;
  /** Paced mode: each receipt goes this long after the message's other records (the hub's order). */
  receiptLagMs?: number;
  /** Each receipt is produced once its dispatch's produce is acknowledged (the hub with an instant supplier). */
  receiptAfterAck?: boolean;
  /**
   * Each dispatch is produced once its receipt's produce is acknowledged: the receipt first, as egress
   * does when the supplier's deliver_sm comes before egress has recorded the submit_sm_resp and published it.
   */
  dispatchAfterReceiptAck?: boolean;
  /** With dispatchAfterReceiptAck: the dispatch is produced this long after the receipt's ack. */
  dispatchDelayMs?: number;
};
const logger = createLogger({ service: 'dlr-bench-load', level: 'warn' });
const kafka = createKafka({ brokers: args.brokers, clientId: `dlr-bench-load-${process.pid}` }, logger);
// a minute for the broker's acks: on a loaded shared machine 10 s (the default) failed most runs
const producer = new TypedProducer(kafka, logger, { lingerMs: 5, ackTimeoutMs: 60_000 });
await producer.connect();
const topics = {
  submitted: { ...registry.submitted, name: args.submitted },
  routed: { ...registry.routed, name: args.routed },
  dispatched: { ...registry.dispatched, name: args.dispatched },
  receiptRaw: { ...registry.receiptRaw, name: args.receiptRaw },
};

function uuidv7(): string {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const sends: Promise<void>[] = [];
const lag = args.rate !== undefined ? (args.receiptLagMs ?? 0) : 0;
/** Receipts held back by `lag`, with the time each is due (in order). */
const lagged: { due: number; receipt: SmsReceiptRaw }[] = [];
function sendDueReceipts(until: number): void {
  while (lagged.length > 0 && (lagged[0]?.due ?? Infinity) <= until) {
    const r = lagged.shift();
    if (r) sends.push(producer.produce(topics.receiptRaw, { ...r.receipt, receivedAt: new Date() }));
  }
}
const now = new Date();
const started = Date.now();
const STEP_MS = 20;
for (let i = 0; i < args.messages; i++) {
  // paced: message i is due at i / rate seconds; wait for the next 20 ms step once ahead of that
  if (args.rate !== undefined) {
    const ahead = started + (i / args.rate) * 1000 - Date.now();
    if (ahead > 0) await new Promise((r) => setTimeout(r, Math.max(ahead, STEP_MS)));
  }
  const hubId = uuidv7();
  const supplierHex = (0x10000000 + i).toString(16).toUpperCase();
  const decimal = String(0x10000000 + i);
  const context = {
    messageId: hubId,
    accountId: 'acc_bench',
    destination: { ton: 1, npi: 1, address: `4477009${String(i).padStart(5, '0')}` },
    receivedAt: now,
    destinationInfo: { mcc: '234', mnc: '15', matchedPrefix: '4477' },
  };
  const submitted = SmsSubmitted.fromPartial({
    messageId: hubId,
    accountId: 'acc_bench',
    destination: context.destination,
    receivedAt: now,
  });
  const dispatched = SmsDispatched.fromPartial({
    context,
    partNumber: 1,
    partTotal: 1,
    connectorId: 'con_bench',
    supplierMessageId: supplierHex,
    supplierMessageIdNormalised: decimal,
    attempt: 1,
    respondedAt: now,
    outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
    segments: 1,
  });
  sends.push(
    producer.produce(topics.submitted, submitted),
    producer.produce(
      topics.routed,
      SmsRouted.fromPartial({
        message: submitted,
        candidates: [{ connectorId: 'con_bench', ruleId: 'rule_bench' }],
        destinationInfo: context.destinationInfo,
        routedAt: now,
      }),
    ),
  );
  let receiptSent: Promise<void> | undefined;
  const dispatchSent = args.dispatchAfterReceiptAck
    ? Promise.resolve()
        .then(() => receiptSent)
        .then(() =>
          args.dispatchDelayMs
            ? new Promise((resolve) => setTimeout(resolve, args.dispatchDelayMs))
            : undefined,
        )
        .then(() => producer.produce(topics.dispatched, dispatched))
    : producer.produce(topics.dispatched, dispatched);
  sends.push(dispatchSent);
  const receipt = SmsReceiptRaw.fromPartial({
    receiptId: uuidv7(),
    connectorId: 'con_bench',
    receivedAt: new Date(),
    rawText: Buffer.from(
      `id:${decimal} sub:001 dlvrd:001 submit date:2611220700 done date:2611220701 stat:DELIVRD err:000`,
    ),
    supplierMessageIdNormalised: decimal,
  });
  if (args.dispatchAfterReceiptAck) {
    receiptSent = producer.produce(topics.receiptRaw, receipt);
    sends.push(receiptSent);
  } else if (args.receiptAfterAck)
    sends.push(
      dispatchSent.then(() => producer.produce(topics.receiptRaw, { ...receipt, receivedAt: new Date() })),
    );
  else if (lag > 0) {
    lagged.push({ due: Date.now() + lag, receipt });
    sendDueReceipts(Date.now());
  } else sends.push(producer.produce(topics.receiptRaw, receipt));
  // a steady stream rather than one burst, and at most 20,000 records waiting for their acks (more
  // outran the producer's acknowledgement timeout on a busy machine)
  if (i % 5_000 === 4_999) await Promise.all(sends.splice(0));
  else if (i % 500 === 499) await new Promise((r) => setImmediate(r));
}
while (lagged.length > 0) {
  await new Promise((r) => setTimeout(r, STEP_MS));
  sendDueReceipts(Date.now());
}
await Promise.all(sends);
await producer.close();
