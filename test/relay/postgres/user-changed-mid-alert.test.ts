import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { entry } from '../../helpers/start-test-relay.js';

// Issue 10: an alert decided over several rounds (a CrossTrade check between two transactions) must
// not decide its later rounds on the user its first round read, when another instance changed that
// user meanwhile. Judged by the simulator's book.

// bob's new key: the same CrossTrade user (the simulator has one book), its old key still taken.
const ROTATED_KEY = 'ct-secret-key-bob-rotated-654321';

describe("a user changed through one instance while another decides that user's alert", () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('a key rotated during the CrossTrade check of a contested entry: the entry is not forwarded on the old account group', async () => {
    cluster = await startPgCluster({ size: 2, simKeys: [ROTATED_KEY] });
    const c = cluster;
    expect((await c.post(0, entry('A'))).body.decision).toBe('forwarded');
    expect(c.book()).toEqual(['Long 1']);
    // Until its outcome is written, instance 1 sees A's order in flight and blocks B without a check.
    await c.outcomesWritten();
    // Past A's hold: B's entry is contested and reads the account first.
    c.advance(15_000);
    c.sim.failApi({ kind: 'hang' });
    const calls = c.sim.apiCalls;
    const contested = c.post(1, entry('B'));
    while (c.sim.apiCalls === calls) await new Promise((resolve) => setTimeout(resolve, 5));
    // While instance 1 waits for CrossTrade, bob's key is rotated through instance 0: A's position moves with it.
    const rotated = await c.admin(0, 'POST', '/users', { relay_user: 'bob', crosstrade_key: ROTATED_KEY, webhook_url: c.sim.webhookUrl(ROTATED_KEY) });
    expect(rotated.status).toBe(200);
    const answer = await contested;
    // Nothing decided on a stale user: refused before anything was sent, so TradingView sends it again.
    expect(answer).toMatchObject({ status: 503, body: { decision: 'blocked' } });
    expect(c.book()).toEqual(['Long 1']);
    c.sim.failApi(null);
    c.advance(5_000);
    // The resend is decided on the user as it is now: A's position moved with the key and holds it.
    const resent = await c.post(1, entry('B'));
    expect(resent.body.decision).toBe('blocked');
    expect(c.book()).toEqual(['Long 1']);
    expect((await c.admin(0, 'GET', '/positions')).body.positions).toMatchObject([{ relay_id: 'A', direction: 'long' }]);
  });
});
