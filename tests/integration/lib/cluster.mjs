// A Redis Cluster of real redis-server processes on free ports, made with `redis-cli --cluster create`, for the
// tests that run the server against one.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis, until } from './harness.mjs';

export const REDIS_CLI = process.env.REDIS_CLI || 'redis-cli';
export const CLUSTER_ARGS = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
  '--cluster-node-timeout', '2000'];
export const run = promisify(execFile);

// `count` masters, no replicas, every slot covered; each node knows its id (`node.id`).
export async function startCluster(count = 3) {
  const nodes = await Promise.all(Array.from({ length: count }, () => Redis.start(CLUSTER_ARGS)));
  await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas', '0', '--cluster-yes']);
  await until(async () => {
    for (const n of nodes) if (!/cluster_state:ok/.test(await n.command('CLUSTER', 'INFO'))) return false;
    return true;
  }, 'the cluster to be ok', 10000, 100);
  for (const n of nodes) n.id = await n.command('CLUSTER', 'MYID');
  return nodes;
}

// The slot of `key` and the node serving it now, asked from the cluster itself.
export async function slotOwner(nodes, key) {
  const slot = await nodes[0].command('CLUSTER', 'KEYSLOT', key);
  const ranges = await nodes[0].command('CLUSTER', 'SLOTS');
  const [, , [, port]] = ranges.find(([first, last]) => slot >= first && slot <= last);
  return { slot, node: nodes.find((n) => n.port === port) };
}
