// `npm run cluster -- <command>`: a local 3-broker Kafka KRaft cluster (deploy/local/kafka.sh with
// KAFKA_CLUSTER_SIZE=3) in .local/cluster, apart from the single broker `npm start` and `npm test` use.
//   check                     start a cluster of its own in a temporary directory, create the hub's topics
//                             (3 copies, min.insync.replicas 2), write with acks=all, kill -9 a partition
//                             leader, write and read again, restart it, stop (tools/ops/test/cluster.check.ts)
//   start|stop|status|address|restart [I]|pid I   kafka.sh's commands on the cluster in .local/cluster
// KAFKA_CLUSTER_SIZE (default 3) and SMSHUB_LOCAL_DIR (default .local/cluster) may be set.
import path from 'node:path';
import { root, run } from './common.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: npm run cluster -- check|start|stop|status|address|restart [I]|pid I\n');
  process.exit(64);
}
const code =
  command === 'check'
    ? await run('npx', ['vitest', 'run', '--config', 'tools/ops/test/cluster.vitest.config.ts', ...args])
    : await run('bash', [path.join(root, 'deploy/local/kafka.sh'), command, ...args], {
        env: {
          ...process.env,
          KAFKA_CLUSTER_SIZE: process.env.KAFKA_CLUSTER_SIZE ?? '3',
          SMSHUB_LOCAL_DIR: process.env.SMSHUB_LOCAL_DIR ?? path.join(root, '.local/cluster'),
        },
      });
process.exit(code);
