#!/usr/bin/env node
// npm run webhook-listen: a local receiver of smshub webhooks for people trying the hub. Listens on
// 127.0.0.1, verifies each request's Smshub-Signature with the secret(s) given, prints the receipt and
// answers 204 (401 when the signature does not verify, so the hub retries: a wrong secret shows at once).
//   --port <n>           default 8787 + HUB_PORT_OFFSET
//   --secret-file <f>    one secret per line (during a rotation, both); default .local/secrets/demo-webhook-secret
//   env WEBHOOK_SECRET   a secret (comma-separated for two), instead of the file
//   --fail <n>           answer 500 to the first n requests (to watch the retries)
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { verifySmshubSignature } from './verify.js';

const USAGE = 'usage: npm run webhook-listen -- [--port N] [--secret-file FILE] [--fail N]\n';

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string' },
        'secret-file': { type: 'string' },
        fail: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`webhook-listen: ${(err as Error).message}\n${USAGE}`);
    process.exit(64);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const offset = Number(process.env.HUB_PORT_OFFSET ?? '0') || 0;
  const port = args.port !== undefined ? Number(args.port) : 8787 + offset;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`webhook-listen: --port must be 0..65535\n`);
    process.exit(64);
  }
  let failLeft = args.fail !== undefined ? Number(args.fail) : 0;
  const localDir = process.env.SMSHUB_LOCAL_DIR ?? path.join(process.cwd(), '.local');
  const file = args['secret-file'] ?? path.join(localDir, 'secrets/demo-webhook-secret');
  let secrets: string[];
  if (process.env.WEBHOOK_SECRET) secrets = process.env.WEBHOOK_SECRET.split(',').map((s) => s.trim());
  else {
    try {
      secrets = readFileSync(file, 'utf8')
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
    } catch {
      process.stderr.write(
        `webhook-listen: no secret: ${file} is not readable; give --secret-file or WEBHOOK_SECRET ` +
          `(the secret 'hubctl webhooks set' printed)\n`,
      );
      process.exit(66);
    }
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers['smshub-signature'];
      const ok = verifySmshubSignature(typeof header === 'string' ? header : undefined, body, secrets);
      const when = new Date().toISOString();
      if (!ok) {
        process.stdout.write(`${when} ${req.method} ${req.url}: signature does NOT verify -> 401\n`);
        res.writeHead(401).end();
        return;
      }
      if (failLeft > 0) {
        failLeft--;
        process.stdout.write(`${when} signature ok; answering 500 as asked (--fail), the hub will retry\n`);
        res.writeHead(500).end();
        return;
      }
      let line = body;
      try {
        const b = JSON.parse(body) as { data?: Record<string, unknown> };
        const d = b.data ?? {};
        const err = d.error as { code?: string } | null | undefined;
        line =
          `receipt: ${String(d.status)}${err?.code ? ` (${err.code})` : ''} message ${String(d.message_id)} ` +
          `to ${String(d.to)} revision ${String(d.revision)}${d.final ? ' final' : ''}`;
      } catch {
        // not JSON: printed as is
      }
      process.stdout.write(`${when} signature ok: ${line}\n`);
      res.writeHead(204).end();
    });
  });
  server.on('error', (err) => {
    process.stderr.write(`webhook-listen: ${err.message}\n`);
    process.exit(69);
  });
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? addr.port : port;
    process.stdout.write(
      `listening on http://127.0.0.1:${bound}/ (${secrets.length} secret${secrets.length === 1 ? '' : 's'}); Ctrl-C stops\n`,
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
