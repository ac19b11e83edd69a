// Loopback throughput of submit_sm through SmppSession, client and server in one process.
// Not a test: prints figures. Run: npx tsx libs/smpp/bench/throughput.ts [messages] [window...]
import { CommandStatus, connectSmpp, createSmppServer } from '../src/index.js';

const messages = Number(process.argv[2] ?? 20_000);
const windows = process.argv.slice(3).map(Number);

async function run(window: number): Promise<void> {
  let n = 0;
  const server = createSmppServer({
    onBind: () => ({ status: CommandStatus.ESME_ROK }),
    inboundWindow: Math.max(window, 1),
    handlers: { submit_sm: () => ({ fields: { message_id: String(++n) } }) },
  });
  const { port } = await server.listen(0);
  const s = await connectSmpp({
    host: '127.0.0.1',
    port,
    systemId: 'bench',
    password: 'x',
    bindType: 'transmitter',
    window,
    enquireLinkMs: 0,
  });
  const fields = {
    source_addr: 'Bench',
    destination_addr: '447700900123',
    short_message: Buffer.from('Hello world, this is a benchmark message'),
    data_coding: 0,
  };
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < messages) {
      issued++;
      await s.submit(fields);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / messages;
  console.log(
    `window ${String(window).padStart(3)}: ${messages} submit_sm in ${ms.toFixed(0)} ms = ${Math.round((messages / ms) * 1000)} msg/s, ` +
      `${cpuUs.toFixed(1)} CPU-µs per submit_sm+resp (both sides, encode+decode+sockets)`,
  );
  await s.unbind();
  await server.close({ graceMs: 500 });
}

for (const w of windows.length ? windows : [1, 10, 100]) await run(w);
