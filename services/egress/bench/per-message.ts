// Micro-benchmark (not a test): egress's own per-message steps with no I/O, in CPU-µs per call (median of 5
// rounds): planning a routed message's submit_sm (translate.ts), encoding that submit_sm as the session does,
// the routed record's MessageContext, and a supplier receipt turned into SmsReceiptRaw (parse included).
//   npx tsx --conditions=@smshub/source services/egress/bench/per-message.ts [calls=200000]
// tsx keeps function names (esbuild's keepNames: a helper call per closure created), which the deployed
// bundles do not: for figures as deployed, bundle this file with esbuild as tools/dev/bundle.mjs does.
import { v7 as uuidv7 } from 'uuid';
import { SmsRouted } from '@smshub/contracts';
import { encodePduFields, encodeUcs2, type Pdu } from '@smshub/smpp';
import { toReceipt } from '../src/domain/inbound.js';
import { planSubmit } from '../src/domain/translate.js';
import { messageContext } from '../src/sender.js';

const calls = Number(process.argv[2] ?? 200_000);
const settings = {
  dataCodings: [0, 8],
  gsm7Packed: false,
  segmentation: 'udh8' as const,
  defaultSourceTon: 0,
  defaultSourceNpi: 0,
};
// As bench/routed-load.ts builds them: a UCS-2 text, one part.
const routed = Array.from({ length: 1000 }, (_, i) => {
  const messageId = uuidv7();
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
});
// A receipt as libs/smsc-simulator writes it (text and TLVs).
const receipt = {
  command_id: 5,
  command_status: 0,
  sequence_number: 7,
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '447700900123',
  dest_addr_ton: 5,
  dest_addr_npi: 0,
  destination_addr: 'BENCH',
  esm_class: 4,
  data_coding: 0,
  short_message: Buffer.from(
    'id:1a2b3c sub:001 dlvrd:001 submit date:2612080112 done date:2612080112 stat:DELIVRD err:000 text:bench message 1',
    'latin1',
  ),
  receipted_message_id: '1a2b3c',
  message_state: 2,
} as unknown as Pdu;
const ctx = {
  connectorId: 'con_bench',
  messageIdFormat: 'hex' as const,
  receiptTimeZone: 'UTC',
  session: {
    replica: 'bench',
    sessionId: 's1',
    systemId: 'hub',
    bindType: 3,
    remoteAddress: '127.0.0.1:2775',
    interfaceVersion: 0x34,
  },
  receivedAt: new Date(),
  newId: () => uuidv7(),
};

function run(name: string, f: (i: number) => unknown): void {
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) f(i);
    const t = process.cpuUsage(t0);
    rounds.push((t.user + t.system) / calls);
  }
  rounds.sort((a, b) => a - b);
  console.log(
    `${name}: median ${rounds[2]!.toFixed(2)} CPU-µs (rounds ${rounds.map((x) => x.toFixed(2)).join(', ')})`,
  );
}

const plans = routed.map((r) => {
  const p = planSubmit(r.message!, settings);
  if (!p.ok) throw new Error(p.reason);
  return p.plan.parts[0]!;
});
console.log(
  `per-message: ${calls} calls per round, load ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`,
);
run('planSubmit', (i) => planSubmit(routed[i % 1000]!.message!, settings));
run('encode submit_sm', (i) => encodePduFields('submit_sm', 0, i, plans[i % 1000]!));
run('messageContext', (i) => messageContext(routed[i % 1000]!));
run('toReceipt', () => toReceipt(receipt, ctx));
