import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { entry } from '../../helpers/start-test-relay.js';

// Issue 10: 40 simultaneous contested entries spread over 3 instances on one database: exactly one
// forward. The fill grace is the real one (10 s): with 0, a flat reading right after the first
// forward would clear its owner and let a second entry through (start-test-relay.ts, config.ts).

describe('40 contested entries over 3 instances on one PostgreSQL database', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('forwards exactly one, from 3 relay processes of their own', async () => {
    cluster = await startPgCluster({ size: 3, spawn: { RELAY_FILL_GRACE_SECONDS: '10' } });
    const c = cluster;
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => c.post(i % 3, entry(`S${i}`))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.filter((a) => a.body.decision === 'forwarded')).toHaveLength(1);
    expect(answers.filter((a) => a.body.decision === 'blocked')).toHaveLength(39);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(3000);
    expect(c.sim.received).toHaveLength(1);
    expect(c.book()).toEqual(['Long 1']);
    const owners = await c.query<{ owner_id: string }>('SELECT owner_id FROM key_records WHERE owner_id IS NOT NULL');
    expect(owners).toHaveLength(1);
    expect(answers.find((a) => a.body.decision === 'forwarded')?.body.reason).toBe('entry: nobody owns the position');
    // One row each, written by the instance that decided it.
    const rows = await c.query<{ decision: string; n: number; instances: number }>(
      'SELECT decision, count(*)::int AS n, count(DISTINCT instance_id)::int AS instances FROM signal_log GROUP BY decision ORDER BY decision',
    );
    expect(rows).toEqual([
      { decision: 'blocked', n: 39, instances: 3 },
      { decision: 'forwarded', n: 1, instances: 1 },
    ]);
  });

  it('forwards exactly one also when a stale owner makes all 40 ask CrossTrade at once, spread over 3 instances', async () => {
    cluster = await startPgCluster({ size: 3 });
    const c = cluster;
    expect((await c.post(0, entry('OLD'))).body.decision).toBe('forwarded');
    c.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // the old owner was stopped out
    c.advance(10_001); // past OLD's fill grace: only CrossTrade's flat reading can clear it
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => c.post(i % 3, entry(`S${i}`))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.filter((a) => a.body.decision === 'forwarded')).toHaveLength(1);
    expect(answers.filter((a) => a.body.decision === 'blocked')).toHaveLength(39);
    expect(c.sim.received).toHaveLength(2);
    expect(c.book()).toEqual(['Long 1']);
    expect(await c.query('SELECT owner_id FROM key_records WHERE owner_id IS NOT NULL')).toHaveLength(1);
  });
});
