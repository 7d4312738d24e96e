import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { entry, exit } from '../../helpers/start-test-relay.js';

// A clean stop (SIGTERM) of one of two instances with alerts in flight, and TradingView's resends
// (of what got no answer or a 5xx) to the survivor: judged by the simulator's book.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one of two instances stopped with SIGTERM mid-flight, resends to the survivor', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('an entry in flight at the stop is answered and recorded; a contested entry and every resend through the survivor double nothing', async () => {
    cluster = await startPgCluster({ size: 2, spawn: { RELAY_FILL_GRACE_SECONDS: '10' } });
    const c = cluster;
    const stopped = c.spawned[0]!;
    // CrossTrade takes A's order at once and answers 700 ms later: in flight at the stop.
    c.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 700, times: 1 });
    const a = c.post(0, entry('A'));
    while (c.sim.received.length === 0) await sleep(5);
    const stopping = stopped.stop('SIGTERM');
    // Sent to the stopping instance: refused (no connection, or 503), never decided.
    const b = await c.post(0, entry('B')).then(
      (answer) => `${answer.status} ${answer.body.decision}`,
      () => 'no connection',
    );
    expect(['no connection', '503 blocked']).toContain(b);
    expect((await a).body.decision).toBe('forwarded');
    expect(await stopping).toBe(0);
    // TradingView's resends, all to the survivor: B's (refused), A's (as if its answer was lost), A's exit twice.
    expect((await c.post(1, entry('B'))).body.decision).toBe('blocked');
    expect((await c.post(1, entry('A'))).body.decision).toBe('dropped');
    expect(c.book()).toEqual(['Long 1']);
    expect((await c.post(1, exit('A'))).body.decision).toBe('forwarded');
    expect((await c.post(1, exit('A'))).body.decision).toBe('dropped');
    expect(c.book()).toEqual([]);
    expect(await c.query("SELECT id FROM signal_log WHERE decision = 'pending'")).toEqual([]);
  });
});
