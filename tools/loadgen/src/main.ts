#!/usr/bin/env node
// smshub load generator CLI. See README.md.
//   npx tsx tools/loadgen/src/main.ts --port 2776 --binds 4 --window 100 --count 100000 --out result.json
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { MessageIdFormat } from '@smshub/smpp';
import { parseMix, runLoad, type LoadOptions, type LoadResult } from './loadgen.js';

const USAGE = `usage: loadgen [options]
  --host HOST            SMPP server (default 127.0.0.1)
  --port PORT            (default 2775)
  --system-id ID         (default loadgen)
  --password PW          (default $LOADGEN_PASSWORD, else password)
  --tls                  connect with TLS (certificate verified; --insecure to skip)
  --binds N              transceiver binds (default 1)
  --window W             submit_sm in flight per bind (default 10)
  --rate R               overall messages/s, 0 = as fast as possible (default 0)
  --count M              messages to send (default 1000 unless --duration)
  --duration S           seconds to send for
  --mix SPEC             gsm7=70,ucs2=20,long=10 (default gsm7=100)
  --registered-delivery N  (default 1)
  --receipt-wait S       seconds to wait for outstanding receipts (default 10)
  --receipt-id FMT       how receipt TEXT ids are written: as-is|hex|dec (default as-is)
  --source ADDR          source_addr (default LoadGen)
  --out FILE             write the result as JSON (with per-submit records when --records)
  --records              keep per-submit_sm records in --out
  --quiet                no progress lines`;

function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name}: "${v}" is not a number >= 0\n${USAGE}`);
    process.exit(64);
  }
  return n;
}

function summary(r: LoadResult): string {
  const l = r.respLatencyMs;
  const d = r.receiptLatencyMs;
  const errors = Object.entries(r.errors)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const stats = Object.entries(r.receiptStats)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `messages ${r.messages}, submit_sm ${r.submitted}, accepted ${r.accepted} in ${(r.submitPhaseMs / 1000).toFixed(2)} s`,
    `accepted submit_sm/s ${r.acceptedPerSecond}   receipts/s ${r.receiptsPerSecond}`,
    `submit_sm_resp latency ms  p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}`,
    `receipt round trip ms      p50 ${d.p50}  p95 ${d.p95}  p99 ${d.p99}  max ${d.max}`,
    `receipts ${r.receipts} (${stats || 'none'}), intermediate ${r.intermediateReceipts}, missing ${r.missingReceipts}, unmatched ${r.unmatchedReceipts}`,
    `errors: ${errors || 'none'}   binds ${r.binds}, reconnects ${r.reconnects}`,
    `loadgen CPU ${(r.cpuMs / 1000).toFixed(2)} s (${r.cpuMicrosPerSubmit} µs per accepted submit_sm, receipts included)`,
  ].join('\n');
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '2775' },
        'system-id': { type: 'string', default: 'loadgen' },
        password: { type: 'string', default: process.env.LOADGEN_PASSWORD ?? 'password' },
        tls: { type: 'boolean', default: false },
        insecure: { type: 'boolean', default: false },
        binds: { type: 'string' },
        window: { type: 'string' },
        rate: { type: 'string' },
        count: { type: 'string' },
        duration: { type: 'string' },
        mix: { type: 'string' },
        'registered-delivery': { type: 'string' },
        'receipt-wait': { type: 'string' },
        'receipt-id': { type: 'string', default: 'as-is' },
        source: { type: 'string' },
        out: { type: 'string' },
        records: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(64);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const receiptId = values['receipt-id'] as MessageIdFormat;
  if (!['as-is', 'hex', 'dec'].includes(receiptId)) {
    console.error(`--receipt-id must be as-is, hex or dec\n${USAGE}`);
    process.exit(64);
  }
  let mix: LoadOptions['mix'];
  try {
    mix = values.mix ? parseMix(values.mix) : undefined;
  } catch (e) {
    console.error(`--mix: ${(e as Error).message}`);
    process.exit(64);
  }
  const controller = new AbortController();
  process.once('SIGINT', () => {
    console.error('interrupted: stopping submits, waiting for receipts (Ctrl-C again to quit)');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  const opts: LoadOptions = {
    host: values.host,
    port: num('port', values.port, 2775),
    systemId: values['system-id'],
    password: values.password,
    ...(values.tls && { tls: values.insecure ? { rejectUnauthorized: false } : true }),
    binds: num('binds', values.binds, 1),
    window: num('window', values.window, 10),
    rate: num('rate', values.rate, 0),
    ...(values.count !== undefined && { count: num('count', values.count, 0) }),
    ...(values.duration !== undefined && { durationMs: num('duration', values.duration, 0) * 1000 }),
    ...(mix && { mix }),
    registeredDelivery: num('registered-delivery', values['registered-delivery'], 1),
    receiptWaitMs: num('receipt-wait', values['receipt-wait'], 10) * 1000,
    receiptIdFormat: receiptId,
    ...(values.source !== undefined && { sourceAddr: values.source }),
    keepRecords: values.records,
    signal: controller.signal,
    ...(!values.quiet && {
      onProgress: (p) =>
        console.error(
          `${(p.elapsedMs / 1000).toFixed(0)}s submitted ${p.submitted} accepted ${p.accepted} failed ${p.failed} receipts ${p.receipts}`,
        ),
    }),
  };
  const result = await runLoad(opts);
  console.log(summary(result));
  if (values.out) {
    await writeFile(values.out, JSON.stringify(result, null, 1));
    console.log(`result written to ${values.out}`);
  }
  process.exitCode = result.accepted > 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(`loadgen failed: ${(e as Error).message}`);
  process.exit(1);
});
