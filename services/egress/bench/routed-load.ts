// The load of throughput.ts: sms.routed.v1 records for the bench connector. Imported by the bench (live
// mode, which times each message from its produce) or run as its own process (backlog mode: the records are
// produced before egress starts, so the bench process's CPU and peak RSS are egress's, the fake SMSC's and
// the dispatched reader's only). As a process, argv[2]: JSON { brokers, topic, messages }.
import { v7 as uuidv7 } from 'uuid';
import { SmsRouted, topics as registry } from '@smshub/contracts';
import { createKafka, TypedProducer } from '@smshub/kafka';
import { createLogger } from '@smshub/logging';
import { encodeUcs2 } from '@smshub/smpp';

/** Routed message number `i` (a UCS-2 text, one part), to the bench connector. */
export function routedMessage(i: number, messageId: string = uuidv7()): SmsRouted {
  return SmsRouted.fromPartial({
    message: {
      messageId,
      accountId: 'acc',
      customerMessageId: messageId,
      source: { ton: 5, npi: 0, address: 'BENCH' },
      destination: { ton: 1, npi: 1, address: `44770${String(i).padStart(7, '0')}` },
      dataCoding: 8,
      shortMessage: encodeUcs2(`bench message ${i}`),
      receivedAt: new Date(),
    },
    candidates: [{ connectorId: 'con_bench', ruleId: 'r', reason: 'bench' }],
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').at(-1)!)) {
  const args = JSON.parse(process.argv[2] ?? '{}') as { brokers: string[]; topic: string; messages: number };
  const logger = createLogger({ service: 'egress-bench-load', level: 'warn' });
  const kafka = createKafka({ brokers: args.brokers, clientId: `egress-bench-load-${process.pid}` }, logger);
  const producer = new TypedProducer(kafka, logger);
  await producer.connect();
  const topic = { ...registry.routed, name: args.topic };
  for (let i = 0; i < args.messages; i += 10_000) {
    const sends: Promise<void>[] = [];
    for (let j = i; j < Math.min(args.messages, i + 10_000); j++)
      sends.push(producer.produce(topic, routedMessage(j)));
    await Promise.all(sends);
  }
  await producer.close();
}
