// GSM 03.38 micro-benchmark: encode / decode / checks of a receipt's text and of a 160-character message,
// one process, no I/O. Not a test: prints CPU-µs per call (median of 7 rounds).
// Run: node --conditions=@smshub/source --import tsx libs/smpp/bench/gsm7.ts [iterations]
import { canEncodeGsm7, decodeGsm7, encodeGsm7, gsm7SeptetLength } from '../src/gsm7.js';
import { decodeText, encodeText } from '../src/text.js';

const iterations = Number(process.argv[2] ?? 100_000);
const receipt =
  'id:01a2284b-59cc-74fc-9a3d-51653da233e9 sub:001 dlvrd:001 submit date:2612071640 done date:2612071640 stat:DELIVRD err:000 text:Your code is 482913';
const message =
  'Your verification code is 482913. It expires in 10 minutes. Never share it with anyone, our staff will never ask for it. Reply STOP to opt out: {brand}';
const septets = encodeGsm7(message);

const cases: Record<string, () => unknown> = {
  'encodeGsm7 receipt (147 chars)': () => encodeGsm7(receipt, { replacement: '?' }),
  'encodeGsm7 message (150 chars, 2 ext)': () => encodeGsm7(message),
  'canEncodeGsm7 message': () => canEncodeGsm7(message),
  'gsm7SeptetLength message': () => gsm7SeptetLength(message),
  'decodeGsm7 message': () => decodeGsm7(septets),
  'encodeText message': () => encodeText(message),
  'decodeText message (dcs 0)': () => decodeText(septets, 0),
};

let sink = 0;
for (const [name, fn] of Object.entries(cases)) {
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < iterations; i++) {
      const v = fn();
      if (v) sink++;
    }
    const d = process.cpuUsage(t);
    rounds.push((d.user + d.system) / iterations);
  }
  rounds.sort((a, b) => a - b);
  console.log(`${name.padEnd(40)} ${rounds[3]!.toFixed(3)} CPU-µs per call`);
}
if (sink < 0) console.log(sink);
