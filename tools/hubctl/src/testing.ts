// Fakes for the unit tests: captured output, a scripted stdin and an Rpc that records requests.
import { Readable } from 'node:stream';
import { run } from './cli.js';
import type { Io } from './context.js';
import { CliError } from './exit-codes.js';
import type { Rpc } from './rpc.js';

export interface Call {
  service: string;
  method: string;
  request: unknown;
}

export type Handler = (request: never) => unknown;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  calls: Call[];
}

/** Runs hubctl in-process against `handlers` (by method name); a handler may throw a CliError. */
export async function runWith(
  argv: string[],
  handlers: Record<string, Handler> = {},
  opts: { stdin?: string; env?: Record<string, string>; files?: Record<string, string> } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const calls: Call[] = [];
  const rpc: Rpc = {
    async unary(service, method, request) {
      calls.push({ service, method, request });
      const h = handlers[method];
      if (!h) throw new Error(`unexpected call ${service}.${method}`);
      return (await h(request as never)) as never;
    },
    stream(service, method, request) {
      calls.push({ service, method, request });
      const h = handlers[method];
      if (!h) throw new Error(`unexpected call ${service}.${method}`);
      return (async function* () {
        for (const item of (await h(request as never)) as unknown[]) {
          if (item instanceof CliError) throw item;
          yield item as never;
        }
      })();
    },
    close() {},
  };
  const io: Io = {
    stdout: {
      write: (c: string | Uint8Array) =>
        (stdout += typeof c === 'string' ? c : Buffer.from(c).toString('utf8')),
    },
    stderr: { write: (c: string) => (stderr += c) },
    stdin: Object.assign(Readable.from(opts.stdin === undefined ? [] : [opts.stdin]), { isTTY: false }),
    env: opts.env ?? {},
    readFile: (path) => {
      const f = opts.files?.[path];
      if (f === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return Buffer.from(f);
    },
  };
  const code = await run(argv, { io, rpc: () => rpc, now: () => new Date('2026-11-29T12:00:00Z') });
  return { code, stdout, stderr, calls };
}
