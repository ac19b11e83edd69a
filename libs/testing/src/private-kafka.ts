import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './hub.js';

const run = promisify(execFile);

/**
 * A Kafka broker (or a KRaft cluster of `size` brokers) of a test's own, started by deploy/local/kafka.sh
 * in a temporary state directory on its own free ports, for tests that stop, pause or kill brokers: the
 * run's shared broker is never touched. `stop()` stops every broker and removes the directory.
 */
export interface PrivateKafka {
  readonly brokers: string[];
  readonly stateDir: string;
  readonly size: number;
  /** The pid of broker `node` (1..size; 1 for a single broker). */
  pid(node?: number): number;
  /** Sends `signal` to broker `node` (SIGKILL, SIGSTOP, SIGCONT...). */
  signal(signal: NodeJS.Signals, node?: number): void;
  /** kafka.sh restart: every broker that is not running (or broker `node`) again, data kept. */
  restart(node?: number): Promise<void>;
  /** Kills every broker (its data is of no further use) and removes the state directory. */
  stop(): Promise<void>;
}

export async function startPrivateKafka(opts: { size?: number; heap?: string } = {}): Promise<PrivateKafka> {
  const size = opts.size ?? 1;
  const stateDir = mkdtempSync(path.join(tmpdir(), 'smshub-kafka-'));
  const script = path.join(repoRoot(), 'deploy/local/kafka.sh');
  const env = {
    ...process.env,
    SMSHUB_LOCAL_DIR: stateDir,
    KAFKA_CLUSTER_SIZE: String(size),
    KAFKA_HEAP: opts.heap ?? (size > 1 ? '320m' : '384m'),
  };
  delete (env as Record<string, string | undefined>).KAFKA_PORT;
  const kafkaSh = async (...args: string[]): Promise<string> =>
    (await run('bash', [script, ...args], { env, maxBuffer: 1 << 20 })).stdout.trim();
  const pidFile = (node: number): string =>
    size > 1
      ? path.join(stateDir, 'kafka', `node-${node}`, 'kafka.pid')
      : path.join(stateDir, 'kafka', 'kafka.pid');
  let address: string;
  try {
    address = (await kafkaSh('start')).split('\n').pop()!;
  } catch (err) {
    await kafkaSh('stop').catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`deploy/local/kafka.sh start failed: ${(err as { stderr?: string }).stderr ?? err}`, {
      cause: err,
    });
  }
  const pid = (node = 1): number => Number(readFileSync(pidFile(node), 'utf8').trim());
  return {
    brokers: address.split(','),
    stateDir,
    size,
    pid,
    signal(signal, node = 1) {
      process.kill(pid(node), signal);
    },
    async restart(node) {
      await kafkaSh('restart', ...(node && size > 1 ? [String(node)] : []));
    },
    async stop() {
      // Its data is thrown away: SIGKILL, not a controlled shutdown (which takes a cluster 10-20 s, and a
      // paused broker would not answer SIGTERM at all).
      for (let n = 1; n <= size; n++) {
        try {
          process.kill(pid(n), 'SIGKILL');
        } catch {
          // not running
        }
      }
      await kafkaSh('stop').catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
