import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { entry, USER_KEY } from '../../helpers/start-test-relay.js';

// A user removed and added again through one instance right after its entry was forwarded, while
// the entry's fill has not reached the account CrossTrade's API reads (fill lag): another
// strategy's entry through another instance. Judged by the simulator's book.

describe("a user's positions released while its last order is filling", () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('removed and added again: the next entry is not let in on a flat reading inside the released order’s fill grace', async () => {
    cluster = await startPgCluster({ size: 2 });
    const c = cluster;
    // CrossTrade takes A's order, but its fill has not reached the account the API reads yet (fill lag).
    c.sim.failWebhook({ kind: 'status', status: 200, apply: false, times: 1 });
    expect((await c.post(0, entry('A'))).body.decision).toBe('forwarded');
    expect((await c.admin(0, 'DELETE', '/users/bob')).status).toBe(200);
    expect((await c.admin(0, 'POST', '/users', { relay_user: 'bob', crosstrade_key: USER_KEY, webhook_url: c.sim.webhookUrl(USER_KEY) })).status).toBe(201);
    const b = await c.post(1, entry('B'));
    // A's fill lands.
    c.sim.setPosition('Sim101', 'ES 03-26', 'Long', c.sim.received.length === 2 ? 2 : 1);
    expect(b.body.decision).not.toBe('forwarded');
    expect(c.book()).toEqual(['Long 1']);
  });

  it('switched to paper: the live key it held lets no entry of another user of the same CrossTrade key in on a flat reading', async () => {
    cluster = await startPgCluster({ size: 2 });
    const c = cluster;
    const user = (paper: boolean, name = 'bob') => ({ relay_user: name, crosstrade_key: USER_KEY, webhook_url: c.sim.webhookUrl(USER_KEY), paper });
    expect((await c.admin(0, 'POST', '/users', user(false, 'carol'))).status).toBe(201);
    c.sim.failWebhook({ kind: 'status', status: 200, apply: false, times: 1 });
    expect((await c.post(0, entry('A'))).body.decision).toBe('forwarded');
    expect((await c.admin(0, 'POST', '/users', user(true))).status).toBe(200);
    const carol = await c.post(1, entry('C').replace('relay_user=bob', 'relay_user=carol'));
    // A's fill lands.
    c.sim.setPosition('Sim101', 'ES 03-26', 'Long', c.sim.received.length === 2 ? 2 : 1);
    expect(carol.body).toMatchObject({ decision: 'blocked', reason: expect.stringMatching(/^position-check-inconclusive: /) });
    expect(c.book()).toEqual(['Long 1']);
  });
});
