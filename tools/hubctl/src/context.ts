// What a command needs at run time: the process streams and environment, the API calls, the output format.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
import { jsonText, type OutputFormat } from './output.js';
import { connectionSettings, type ConnectionSettings, type GlobalFlags, type Rpc } from './rpc.js';

export interface Io {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  env: Record<string, string | undefined>;
  /** Reads a file ("-" = stdin is handled by the caller). */
  readFile(path: string): Buffer;
}

export interface Deps {
  io: Io;
  /** Opens the API connections (real gRPC, or a fake in unit tests). */
  rpc(settings: ConnectionSettings): Rpc;
  /** Current time (relative times like -2h). */
  now(): Date;
}

export interface Ctx {
  readonly io: Io;
  readonly format: OutputFormat;
  readonly settings: ConnectionSettings;
  readonly rpc: Rpc;
  now(): Date;
  /** Prints `json` (proto3 JSON), the table text or (when the command has it) CSV, by --output. */
  emit(json: unknown, table: () => string, csv?: () => string): void;
  /** A note for people on stderr (never in JSON mode's stdout). */
  note(text: string): void;
}

interface RootFlags extends GlobalFlags {
  output?: string;
}

export function outputFormat(
  value: string | undefined,
  env: Record<string, string | undefined>,
): OutputFormat {
  const v = (value ?? env.HUBCTL_OUTPUT ?? 'table').trim().toLowerCase();
  if (v === 'table' || v === 'json' || v === 'csv') return v;
  throw new CliError(`--output must be table, json or csv, got "${v}"`, EXIT.USAGE);
}

/** Holds the one Rpc of this run so it can be closed at the end. */
export class Session {
  private rpcInstance: Rpc | undefined;
  constructor(readonly deps: Deps) {}

  ctx(cmd: Command): Ctx {
    const flags = cmd.optsWithGlobals<RootFlags>();
    const io = this.deps.io;
    const format = outputFormat(flags.output, io.env);
    const settings = connectionSettings(flags, io.env);
    const rpc = (this.rpcInstance ??= this.deps.rpc(settings));
    return {
      io,
      format,
      settings,
      rpc,
      now: () => this.deps.now(),
      emit(json, table, csv) {
        if (format === 'csv' && csv === undefined)
          throw new CliError('--output csv is not available for this command (table or json)', EXIT.USAGE);
        io.stdout.write(format === 'json' ? jsonText(json) : format === 'csv' ? csv!() : table());
      },
      note(text) {
        io.stderr.write(`${text}\n`);
      },
    };
  }

  close(): void {
    this.rpcInstance?.close();
    this.rpcInstance = undefined;
  }
}

/** Reads a whole input ("-" = stdin). */
export async function readInput(io: Io, path: string, what: string): Promise<Buffer> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks);
  }
  try {
    return io.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new CliError(`cannot read ${what} ${path}: ${why}`, EXIT.NO_INPUT, { cause: err });
  }
}

export const nodeIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  readFile: (path) => readFileSync(path),
};
