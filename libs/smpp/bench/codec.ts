// Codec micro-benchmark: encodePdu / decodePdu per hot PDU, one process, no I/O.
// Not a test: prints figures. Run: node --conditions=@smshub/source --import tsx libs/smpp/bench/codec.ts [iterations]
import { decodePdu, encodePdu, type PduInit } from '../src/index.js';

const iterations = Number(process.argv[2] ?? 200_000);

const cases: Record<string, PduInit> = {
  submit_sm: {
    command: 'submit_sm',
    sequence_number: 12345,
    source_addr_ton: 5,
    source_addr: 'Bench',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900123',
    registered_delivery: 1,
    data_coding: 0,
    short_message: Buffer.from('Hello world, this is a benchmark message'),
  },
  submit_sm_resp: { command: 'submit_sm_resp', sequence_number: 12345, message_id: '0123456789abcdef0123' },
  deliver_sm: {
    command: 'deliver_sm',
    sequence_number: 7,
    source_addr: '447700900123',
    destination_addr: 'Bench',
    esm_class: 4,
    short_message: Buffer.from(
      'id:0123456789abcdef0123 sub:001 dlvrd:001 submit date:2611291700 done date:2611291700 stat:DELIVRD err:000 text:Hello world',
    ),
    receipted_message_id: '0123456789abcdef0123',
    message_state: 2,
    network_error_code: Buffer.from([3, 0, 0]),
  },
  deliver_sm_resp: { command: 'deliver_sm_resp', sequence_number: 7, message_id: '' },
  enquire_link: { command: 'enquire_link', sequence_number: 9 },
};

function time(label: string, fn: () => unknown): void {
  for (let i = 0; i < 20_000; i++) fn(); // warm up
  // CPU time, not wall time: the figure stays meaningful on a machine shared with other work.
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / iterations;
  console.log(`${label.padEnd(26)} ${us.toFixed(2).padStart(7)} CPU-µs`);
}

for (const [name, init] of Object.entries(cases)) {
  const bytes = encodePdu(init);
  time(`encode ${name}`, () => encodePdu(init));
  time(`decode ${name}`, () => decodePdu(bytes));
}
