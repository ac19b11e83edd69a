// The client side of http-bench.ts, in its own process so that the bench's process CPU is http-api's alone.
// Forked by http-bench.ts (IPC channel); not meant to be run by hand.
//
// Waits for { url, key, seconds, connections, rate? } messages; each runs one autocannon phase of
// POST /v1/messages with keep-alive (rate: requests/s over all connections; none: as fast as answered)
// and reports its counts, latency percentiles and this process's CPU time.
import autocannon from 'autocannon';

interface Phase {
  url: string;
  key: string;
  seconds: number;
  connections: number;
  rate?: number;
}

const send = (m: unknown): void => void process.send?.(m);

const body = JSON.stringify({
  to: '+447712000123', // a valid UK mobile number, as loadgen sends
  from: 'Bench',
  text: 'Your verification code is 123456',
});

async function run(p: Phase): Promise<void> {
  const cpu0 = process.cpuUsage();
  const r = await autocannon({
    url: `${p.url}/v1/messages`,
    method: 'POST',
    headers: { authorization: `Bearer ${p.key}`, 'content-type': 'application/json' },
    body,
    connections: p.connections,
    duration: p.seconds,
    pipelining: 1,
    ...(p.rate ? { overallRate: p.rate } : {}),
  });
  const cpu = process.cpuUsage(cpu0);
  send({
    type: 'done',
    seconds: r.duration,
    requests: r.requests.total,
    accepted: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyMs: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      mean: r.latency.average,
    },
    cpuMicros: cpu.user + cpu.system,
  });
}

process.on('message', (m: Phase | { type: 'exit' }) => {
  if ('type' in m) return void process.disconnect();
  void run(m).catch((err: unknown) => send({ type: 'error', message: String(err) }));
});
send({ type: 'ready' });
