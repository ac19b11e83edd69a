// Reading a password: from a flag, from stdin (--password-stdin, first line), or a prompt on the terminal
// with echo off. The password is never printed.
import { CliError, EXIT } from './exit-codes.js';
import type { Io } from './context.js';

/** First line of stdin, without the line end. */
async function firstLine(stdin: Io['stdin']): Promise<string> {
  let text = '';
  for await (const c of stdin) {
    text += typeof c === 'string' ? c : (c as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** Prompts on the terminal with echo off; Ctrl-C aborts. */
function prompt(io: Io, question: string): Promise<string> {
  const stdin = io.stdin;
  return new Promise((resolve, reject) => {
    io.stderr.write(question);
    let value = '';
    const done = (err?: Error): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: Buffer | string): void => {
      for (const ch of typeof data === 'string' ? data : data.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', EXIT.FAILURE));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

export interface PasswordFlags {
  password?: string;
  passwordStdin?: boolean;
}

/** The password from --password, --password-stdin, or a prompt; a usage error when none is possible. */
export async function readPassword(io: Io, flags: PasswordFlags, what: string): Promise<string> {
  let pw: string;
  if (flags.password !== undefined && flags.passwordStdin) {
    throw new CliError('use --password or --password-stdin, not both', EXIT.USAGE);
  }
  if (flags.password !== undefined) pw = flags.password;
  else if (flags.passwordStdin) pw = await firstLine(io.stdin);
  else if (io.stdin.isTTY) pw = await prompt(io, `${what}: `);
  else {
    throw new CliError(
      `no password given: pass --password-stdin (and the password on stdin), or run on a terminal to be asked`,
      EXIT.USAGE,
    );
  }
  if (pw === '') throw new CliError('the password is empty', EXIT.USAGE);
  return pw;
}
