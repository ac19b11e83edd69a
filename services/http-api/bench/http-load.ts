// The client side of http-bench.ts, in its own process so that the bench's process CPU is http-api's alone.
// Forked by http-bench.ts (IPC channel); not meant to be run by hand.
//
// Waits for { url, key, seconds, connections, rate?, pacer? } messages; each runs one phase of
// POST /v1/messages with keep-alive and reports its counts, latency percentiles and this process's CPU time.
//  - no rate: autocannon, closed loop, as fast as answered (one request in flight per connection);
//  - rate with pacer 'even' (the default): an open-loop generator that starts request i at
//    t0 + i / rate, evenly spaced, over at most `connections` keep-alive sockets, and measures each
//    request from the time it was due (so a stalled server is charged for the requests it held back:
//    no coordinated omission);
//  - rate with pacer 'autocannon': autocannon's overallRate, kept for comparison. autocannon gives each
//    connection a budget of rate/connections requests per second, fires them back to back as soon as
//    the previous answer comes, then pauses until the next whole second: the server sees bursts at
//    saturation speed for part of every second, not the rate; and it "corrects" coordinated omission with
//    an expected interval of ceil(connections / rate) = 1 ms, which records a 40 ms answer as 40 samples
//    (40, 39, ... 1 ms). Its percentiles at a set rate therefore describe bursts, not that rate.
import { connect, type Socket } from 'node:net';
import autocannon from 'autocannon';

interface Phase {
  url: string;
  key: string;
  seconds: number;
  connections: number;
  rate?: number;
  pacer?: 'even' | 'autocannon';
}

interface Done {
  type: 'done';
  seconds: number;
  requests: number;
  accepted: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; p999?: number; max: number; mean: number };
  /** Even pacing: how late this generator started requests (its own CPU starvation), ms. */
  sendLagMs?: { p50: number; p99: number; max: number };
  cpuMicros: number;
}

const send = (m: unknown): void => void process.send?.(m);

const body = JSON.stringify({
  to: '+447712000123', // a valid UK mobile number, as loadgen sends
  from: 'Bench',
  text: 'Your verification code is 123456',
});

async function viaAutocannon(p: Phase): Promise<Omit<Done, 'cpuMicros' | 'type'>> {
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
  return {
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
  };
}

const percentile = (sorted: Float64Array, q: number): number =>
  sorted.length
    ? Number(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.toFixed(1))
    : 0;

/**
 * Open loop: request i is due at t0 + i/rate and goes out on an idle keep-alive connection (or waits, in
 * order, for the first one free); its latency runs from its due time to the end of its answer. Plain
 * sockets and a minimal reader of the answers (status line, Content-Length, body; Fastify always sends
 * Content-Length): node:http's client costs ~130 CPU-us per request, which on a loaded 2-core machine
 * made the generator itself late.
 */
async function evenlyPaced(p: Phase & { rate: number }): Promise<Omit<Done, 'cpuMicros' | 'type'>> {
  const target = new URL('/v1/messages', p.url);
  const head =
    `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n` +
    `Authorization: Bearer ${p.key}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const wire = Buffer.from(head + body);
  const total = Math.round(p.rate * p.seconds);
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  let started = 0;
  let finished = 0;
  let accepted = 0;
  let non2xx = 0;
  let errors = 0;
  let recorded = 0;
  let sent = 0;
  const waiting: number[] = []; // due times of requests waiting for a free connection
  const idle: Conn[] = [];
  interface Conn {
    socket: Socket;
    due: number;
    buf: Buffer;
  }
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const finish = (): void => {
    if (++finished === total) resolveDone();
  };
  const dispatch = (c: Conn, due: number): void => {
    c.due = due;
    lags[sent++] = performance.now() - due;
    c.socket.write(wire);
  };
  const release = (c: Conn): void => {
    const next = waiting.shift();
    if (next !== undefined) dispatch(c, next);
    else idle.push(c);
  };
  const onData = (c: Conn, chunk: Buffer): void => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = c.buf.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
      if (c.buf.length < end + 4 + length) return;
      c.buf = c.buf.subarray(end + 4 + length);
      const status = Number(headers.slice(9, 12));
      if (status >= 200 && status < 300) {
        accepted++;
        latencies[recorded++] = performance.now() - c.due;
      } else non2xx++;
      finish();
      release(c);
    }
  };
  const conns = await Promise.all(
    Array.from(
      { length: p.connections },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = connect({ host: target.hostname, port: Number(target.port) });
          socket.setNoDelay(true);
          const c: Conn = { socket, due: 0, buf: Buffer.alloc(0) };
          socket.once('connect', () => resolve(c));
          socket.once('error', reject);
          socket.on('data', (chunk: Buffer) => onData(c, chunk));
        }),
    ),
  );
  for (const c of conns) {
    c.socket.on('error', () => {
      errors++;
      finish();
    });
    idle.push(c);
  }
  const t0 = performance.now();
  const interval = 1000 / p.rate;
  const tick = (): void => {
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    while (started < due) {
      const at = t0 + started * interval;
      started++;
      const c = idle.pop();
      if (c) dispatch(c, at);
      else waiting.push(at);
    }
    if (started < total) setTimeout(tick, Math.max(0, t0 + started * interval - performance.now()));
  };
  tick();
  await done;
  const seconds = (performance.now() - t0) / 1000;
  for (const c of conns) c.socket.destroy();
  const sorted = latencies.subarray(0, recorded).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    seconds: Number(seconds.toFixed(2)),
    requests: total,
    accepted,
    non2xx,
    errors,
    timeouts: 0,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: percentile(sorted, 1),
      mean: Number((sum / Math.max(1, recorded)).toFixed(2)),
    },
    sendLagMs: {
      p50: percentile(lags.subarray(0, sent).sort(), 0.5),
      p99: percentile(lags.subarray(0, sent), 0.99),
      max: percentile(lags.subarray(0, sent), 1),
    },
  };
}

async function run(p: Phase): Promise<void> {
  const cpu0 = process.cpuUsage();
  const r =
    p.rate && (p.pacer ?? 'even') === 'even'
      ? await evenlyPaced({ ...p, rate: p.rate })
      : await viaAutocannon(p);
  const cpu = process.cpuUsage(cpu0);
  send({ type: 'done', ...r, cpuMicros: cpu.user + cpu.system } satisfies Done);
}

process.on('message', (m: Phase | { type: 'exit' }) => {
  if ('type' in m) return void process.disconnect();
  void run(m).catch((err: unknown) => send({ type: 'error', message: String(err) }));
});
send({ type: 'ready' });
