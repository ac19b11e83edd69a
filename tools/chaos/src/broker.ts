// The chaos run's own Kafka broker or cluster (deploy/local/kafka.sh under a private SMSHUB_LOCAL_DIR, with
// KAFKA_CLUSTER_SIZE for a cluster), so that killing or pausing a broker never touches the development
// broker other people are using.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

export class OwnBroker {
  private address: string | undefined;

  constructor(
    private readonly root: string,
    /** SMSHUB_LOCAL_DIR of this broker: its config, data and logs live in <dir>/kafka. */
    readonly dir: string,
    /** Brokers: 1 = one KRaft broker; 2..9 = a cluster (each broker its own controller, node ids 1..N). */
    readonly size = 1,
    private readonly heap = size > 1 ? '384m' : '512m',
  ) {}

  private script(...args: string[]): string {
    const r = spawnSync('bash', [path.join(this.root, 'deploy/local/kafka.sh'), ...args], {
      cwd: this.root,
      env: {
        ...process.env,
        SMSHUB_LOCAL_DIR: this.dir,
        KAFKA_HEAP: this.heap,
        KAFKA_CLUSTER_SIZE: String(this.size),
        // A JVM can take minutes to start on a machine loaded by others.
        KAFKA_START_TIMEOUT_S: process.env.KAFKA_START_TIMEOUT_S ?? '300',
      },
      encoding: 'utf8',
      timeout: 900_000,
    });
    if (r.status !== 0)
      throw new Error(
        `kafka.sh ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.trim().slice(-2000)}`,
      );
    return r.stdout.trim();
  }

  /** Starts a fresh broker (or cluster); returns the bootstrap list host:port[,host:port...]. */
  start(attempts = 2): string {
    // kafka.sh gives each broker KAFKA_START_TIMEOUT_S (300 s here) to answer, then stops them all: on a
    // machine loaded by others, try again.
    for (let i = 1; ; i++)
      try {
        this.address = this.script('start').split('\n').pop();
        break;
      } catch (err) {
        if (i >= attempts) throw err;
        process.stderr.write(`chaos: ${(err as Error).message.split('\n').pop()}; trying again\n`);
      }
    if (!this.address) throw new Error('kafka.sh start printed no address');
    return this.address;
  }

  get brokers(): string {
    if (!this.address) throw new Error('the chaos broker is not started');
    return this.address;
  }

  /** The JVM pid of broker `node` (node id 1..size; 1 for a single broker). */
  pid(node = 1): number {
    const file =
      this.size > 1
        ? path.join(this.dir, `kafka/node-${node}/kafka.pid`)
        : path.join(this.dir, 'kafka/kafka.pid');
    return Number(readFileSync(file, 'utf8').trim());
  }

  /**
   * The node id of the leader of `topic`'s partition `partition` (a busy partition: the one most records
   * go to). A single broker is always node 1.
   */
  async leaderOf(topic: string, partition = 0): Promise<number> {
    if (this.size === 1) return 1;
    const kafka = new Kafka({
      clientId: 'chaos-leader',
      brokers: this.brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      const p = md.topics[0]?.partitions.find((x) => x.partitionId === partition);
      if (!p || p.leader < 1) throw new Error(`${topic}[${partition}] has no leader`);
      return p.leader;
    } finally {
      await admin.disconnect();
    }
  }

  /** kill -9 of broker `node`'s JVM; resolves once it is gone (or a zombie waiting to be reaped). */
  async kill(node = 1): Promise<void> {
    const pid = this.pid(node);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      if (!alive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`kafka broker ${node} (pid ${pid}) still running 10 s after kill -9`);
  }

  /** SIGSTOP (pause) or SIGCONT (resume) of broker `node`: a broker that stops answering, then comes back. */
  signal(node: number, sig: 'SIGSTOP' | 'SIGCONT'): void {
    process.kill(this.pid(node), sig);
  }

  /** Runs broker `node` again (same port, data kept) and waits until it answers. */
  restart(node = 1): void {
    if (this.size > 1) this.script('restart', String(node));
    else this.script('restart');
  }

  /** Stops the broker(s) (TERM, then KILL after 30 s). Never throws. */
  stop(): void {
    try {
      // A paused broker would wait out the whole grace period.
      for (let n = 1; n <= this.size; n++)
        try {
          this.signal(n, 'SIGCONT');
        } catch {
          // not running
        }
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
