// A master, a replica and three sentinels watching them as `mymaster`, all real processes on free ports, ready
// for a failover (the sentinels know each other and the replica), for the tests that run the server behind them.
import { Redis, Sentinel, until } from './harness.mjs';

// The role a redis answers (`master`, `slave`), or null when it does not answer.
export const role = async (r) => { try { return (await r.command('ROLE'))[0]; } catch { return null; } };

// With `password`, master and replica require it (and the URL carries it).
export async function startSentinelGroup({ password } = {}) {
  const g = {};
  g.master = await Redis.start([], { password });
  g.replica = await Redis.start(['--replicaof', '127.0.0.1', String(g.master.port)], { password });
  await until(async () => /master_link_status:up/.test(await g.replica.command('INFO', 'replication')),
    'the replica to sync', 10000);
  g.sentinels = await Promise.all([0, 1, 2].map(() => Sentinel.start(g.master)));
  // A failover needs the sentinels to know each other (hello messages every 2 s) and the replica.
  await until(async () => {
    for (const s of g.sentinels) {
      if ((await s.command('SENTINEL', 'sentinels', 'mymaster')).length < 2) return false;
      if ((await s.command('SENTINEL', 'replicas', 'mymaster')).length < 1) return false;
    }
    return true;
  }, 'the sentinels to find each other and the replica', 15000, 100);
  const auth = password ? `:${password}@` : '';
  g.url = `redis-sentinel://${auth}${g.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/0#mymaster`;
  g.stop = async () => {
    for (const s of g.sentinels) await s.stop();
    await g.replica?.stop();
    await g.master?.stop();
  };
  return g;
}
