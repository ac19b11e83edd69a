// The chaos run's own Kafka broker (deploy/local/kafka.sh under a private SMSHUB_LOCAL_DIR), so that killing
// it never touches the development broker other people are using.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export class OwnBroker {
  private address: string | undefined;

  constructor(
    private readonly root: string,
    /** SMSHUB_LOCAL_DIR of this broker: its config, data and logs live in <dir>/kafka. */
    readonly dir: string,
    private readonly heap = '512m',
  ) {}

  private script(command: 'start' | 'restart' | 'stop'): string {
    const r = spawnSync('bash', [path.join(this.root, 'deploy/local/kafka.sh'), command], {
      cwd: this.root,
      env: { ...process.env, SMSHUB_LOCAL_DIR: this.dir, KAFKA_HEAP: this.heap },
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (r.status !== 0)
      throw new Error(
        `kafka.sh ${command} failed (${r.status ?? r.signal}): ${r.stderr.trim().slice(-2000)}`,
      );
    return r.stdout.trim();
  }

  /** Starts a fresh broker; resolves with host:port. */
  start(): string {
    this.address = this.script('start').split('\n').pop();
    if (!this.address) throw new Error('kafka.sh start printed no address');
    return this.address;
  }

  get brokers(): string {
    if (!this.address) throw new Error('the chaos broker is not started');
    return this.address;
  }

  private pid(): number {
    return Number(readFileSync(path.join(this.dir, 'kafka/kafka.pid'), 'utf8').trim());
  }

  /** kill -9 of the broker's JVM; resolves once it is gone (or a zombie waiting to be reaped). */
  async kill(): Promise<void> {
    const pid = this.pid();
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      if (!alive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`kafka (pid ${pid}) still running 10 s after kill -9`);
  }

  /** Runs the same broker again (same port, data kept) and waits until it answers. */
  restart(): void {
    this.script('restart');
  }

  /** Stops the broker (TERM, then KILL after 30 s). Never throws. */
  stop(): void {
    try {
      this.script('stop');
    } catch (err) {
      process.stderr.write(`chaos: stopping the broker: ${(err as Error).message}\n`);
    }
  }
}

/** True while `pid` runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
