// Preload (NODE_OPTIONS=--import=<this file>) for tools/bench/src/kafka-per-message.ts: counts every Kafka
// request a hub process makes, by client (producer, admin, or the consumer's group) and API, with the
// response bytes, and the records each consumer group handed to the process, by topic, from kafkajs's
// instrumentation events (REQUEST, END_BATCH_PROCESS). Cumulative counts are written every second (and at
// exit) to $BENCH_KAFKA_COUNT_DIR/<pid>.json. Works for processes run from the TypeScript sources (kafkajs
// loaded from node_modules, whose client prototype this patches), not for the esbuild bundles (kafkajs
// inlined). Does nothing without BENCH_KAFKA_COUNT_DIR.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = process.env.BENCH_KAFKA_COUNT_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const require = createRequire(import.meta.url);
  const Client = require('kafkajs').Kafka;
  const service =
    /(?:services|tools)\/([^/]+)\//.exec(process.argv[1] ?? '')?.[1] ?? path.basename(process.argv[1] ?? '');
  /** `${client}\t${api}` → [requests, response bytes] */
  const requests = new Map();
  /** `${group}\t${topic}` → [batches, records] */
  const records = new Map();
  const add = (map, key, a, b) => {
    const v = map.get(key);
    if (v) {
      v[0] += a;
      v[1] += b;
    } else map.set(key, [a, b]);
  };
  const watch = (client, name) => {
    const { REQUEST, END_BATCH_PROCESS } = client.events;
    client.on(REQUEST, (e) => add(requests, `${name}\t${e.payload.apiName}`, 1, e.payload.size ?? 0));
    if (END_BATCH_PROCESS)
      client.on(END_BATCH_PROCESS, (e) =>
        add(records, `${name}\t${e.payload.topic}`, 1, e.payload.batchSize ?? 0),
      );
  };
  const proto = Client.prototype;
  const PATCHED = Symbol.for('smshub.bench.kafkaRequests');
  if (!proto[PATCHED]) {
    proto[PATCHED] = true;
    let producers = 0;
    let admins = 0;
    for (const [method, label] of [
      ['producer', () => `producer#${++producers}`],
      ['admin', () => `admin#${++admins}`],
      ['consumer', (opts) => `group ${opts?.groupId}`],
    ]) {
      const original = proto[method];
      proto[method] = function (...args) {
        const client = original.apply(this, args);
        watch(client, label(args[0]));
        return client;
      };
    }
  }
  const file = path.join(dir, `${process.pid}.json`);
  const write = () => {
    const out = {
      service,
      pid: process.pid,
      at: Date.now(),
      requests: [...requests].map(([k, [n, bytes]]) => [...k.split('\t'), n, bytes]),
      records: [...records].map(([k, [batches, n]]) => [...k.split('\t'), batches, n]),
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(out));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 1000).unref();
  process.on('exit', write);
}
