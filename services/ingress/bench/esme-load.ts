// The ESME side of ingress-bench.ts, in its own process so that the bench's process CPU is ingress's alone.
// Forked by ingress-bench.ts (IPC channel); not meant to be run by hand.
//
// argv: port, messages, sessions, window. Binds the sessions, sends one warm-up submit on each, reports
// 'ready', waits for 'go', runs `window` loops of `await submit()` per session, then reports the latencies
// and its own CPU time and unbinds.
import { connectSmpp, type SmppSession } from '@smshub/smpp';

const [port, total, sessions, window] = process.argv.slice(2).map(Number) as [number, number, number, number];
const send = (m: unknown): void => void process.send?.(m);

const clients: SmppSession[] = [];
for (let i = 0; i < sessions; i++)
  clients.push(
    await connectSmpp({
      host: '127.0.0.1',
      port,
      systemId: 'bench',
      password: 'benchpw',
      bindType: 'transmitter',
      window,
      enquireLinkMs: 0,
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
// Warm-up (connections, metadata, JIT), not counted.
await Promise.all(clients.map((s) => s.submit(msg)));

const latencies = new Float64Array(total);
let next = 0;
let failed = 0;
async function worker(s: SmppSession): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= total) return;
    const t0 = process.hrtime.bigint();
    try {
      await s.submit(msg);
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    } catch {
      failed++;
      latencies[i] = Number.NaN;
    }
  }
}

await new Promise<void>((resolve) => {
  process.once('message', () => resolve());
  send({ type: 'ready' });
});
const cpu0 = process.cpuUsage();
await Promise.all(clients.flatMap((s) => Array.from({ length: window }, () => worker(s))));
const cpu = process.cpuUsage(cpu0);
send({ type: 'done', latencies: Array.from(latencies), failed, cpuMicros: cpu.user + cpu.system });
for (const s of clients) await s.unbind();
process.disconnect();
