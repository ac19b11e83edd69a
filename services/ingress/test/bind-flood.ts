// The attacker of bind-security.test.ts's flood test, in its own process (an attacker is another machine:
// its CPU must not be the server's event loop). Forked with an IPC channel; not meant to be run by hand.
//
// argv: port, connections, local address. Each connection binds with an unknown system_id, again as soon
// as the answer comes, until 'stop'; then reports { type: 'done', attempts }.
import { connectSmpp } from '@smshub/smpp';

const [port, connections] = process.argv.slice(2, 4).map(Number) as [number, number];
const localAddress = process.argv[4]!;
let stopping = false;
let attempts = 0;
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stopping = true;
});

async function loop(c: number): Promise<void> {
  for (let i = 0; !stopping; i++) {
    await connectSmpp({
      host: '127.0.0.1',
      port,
      localAddress,
      systemId: `flood${c}x${i}`,
      password: 'guess',
      bindType: 'transmitter',
      enquireLinkMs: 0,
      responseTimeoutMs: 30_000,
    }).then(
      (s) => s.destroy(),
      () => undefined,
    );
    attempts++;
    if (attempts % 20 === 0) process.send?.({ type: 'progress', attempts });
  }
}

await Promise.all(Array.from({ length: connections }, (_, c) => loop(c)));
process.send?.({ type: 'done', attempts });
process.disconnect?.();
