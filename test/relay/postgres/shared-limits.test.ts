import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { entry, exit } from '../../helpers/start-test-relay.js';

// Issue 10: the admin lockout, the per-source webhook rate limit and CrossTrade's API budget (180
// calls a minute per user, bursts of 20: docs/external-systems.md §3.2) hold across the instances on
// one database, not per process. Two real instances, one PostgreSQL database, one simulator.

describe('rate limits across instances on one PostgreSQL database', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('admin lockout: failed attempts on either instance add up, and lock the address out of both', async () => {
    cluster = await startPgCluster({ size: 2 });
    const c = cluster;
    for (let i = 0; i < 5; i++) expect((await c.admin(0, 'GET', '/users', undefined, `Bearer wrong-a-${i}`)).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await c.admin(1, 'GET', '/users', undefined, `Bearer wrong-b-${i}`)).status).toBe(401);
    for (const i of [1, 0]) {
      expect(await c.admin(i, 'GET', '/users')).toEqual({
        status: 429,
        body: { error: 'too many failed admin attempts from this address: try again in 15 minutes' },
      });
    }
    // 15 minutes later the address may try again, on either.
    c.advance(15 * 60_000);
    expect((await c.admin(1, 'GET', '/users')).status).toBe(200);
    // Guesses sent to both at once are each counted: at most ten answered 401, the rest locked out
    // (or 503 when, on a loaded machine, the shared count did not answer in time).
    const answers = await Promise.all(Array.from({ length: 30 }, (_, n) => c.admin(n % 2, 'GET', '/users', undefined, `Bearer guess-${n}`)));
    const count = (status: number) => answers.filter((a) => a.status === status).length;
    expect(count(401) + count(429) + count(503)).toBe(30);
    expect(count(401)).toBeLessThanOrEqual(10);
    if (count(503) === 0) expect(count(401)).toBe(10);
  });

  it('webhook rate limit: alerts from one source count on every instance together', async () => {
    cluster = await startPgCluster({ size: 2, overrides: { rateLimitPerMin: 3 } });
    const c = cluster;
    const statuses = [];
    for (const [i, account] of [
      [0, 'Sim301'],
      [1, 'Sim302'],
      [0, 'Sim303'],
      [1, 'Sim304'],
      [0, 'Sim305'],
    ] as const) {
      statuses.push((await c.post(i, entry('A', { account }))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(c.sim.received).toHaveLength(3);
    const refused = await c.query<{ reason: string }>("SELECT reason FROM signal_log WHERE decision = 'rejected' ORDER BY id");
    expect(refused.map((r) => r.reason)).toEqual([
      'rate limit: more than 3 alerts a minute from 127.0.0.1',
      'rate limit: more than 3 alerts a minute from 127.0.0.1',
    ]);
  });

  it("CrossTrade's API budget: the instances' position reads together stay within the burst of 20", async () => {
    cluster = await startPgCluster({ size: 2 });
    const c = cluster;
    const accounts = Array.from({ length: 30 }, (_, i) => `Sim${400 + i}`);
    for (const [n, account] of accounts.entries()) expect((await c.post(n % 2, entry('A', { account }))).body.decision).toBe('forwarded');
    expect(c.sim.apiCalls).toBe(0);

    const started = Date.now();
    const answers = await Promise.all(accounts.map((account, n) => c.post(n % 2, exit('A', { account }))));
    const elapsedS = (Date.now() - started) / 1000;

    // Per process each instance would have read its 15: 30 reads.
    expect(c.sim.apiCalls).toBeGreaterThanOrEqual(20);
    expect(c.sim.apiCalls).toBeLessThanOrEqual(20 + Math.ceil(3 * elapsedS));
    // A read the budget does not allow counts as a failed check: the owner's agreeing exit is sent (README, "When CrossTrade cannot be read").
    expect(answers.map((a) => a.body.decision)).toEqual(accounts.map(() => 'forwarded'));
    const unread = answers.filter((a) => String(a.body.reason).includes('CrossTrade check failed (api-budget-spent)'));
    expect(unread).toHaveLength(accounts.length - c.sim.apiCalls);
    for (const account of accounts) expect(c.book(account)).toEqual([]);
    const logged = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM signal_log WHERE api_check = 'failed: api-budget-spent'");
    expect(logged).toEqual([{ n: unread.length }]);
  });

  it('when the limits cannot be read: the webhook lets alerts through, the admin lockout refuses with 503', async () => {
    cluster = await startPgCluster({ size: 1, overrides: { rateLimitPerMin: 3 } });
    const c = cluster;
    await c.query('ALTER TABLE rate_limits RENAME TO rate_limits_away');
    for (const account of ['Sim501', 'Sim502', 'Sim503', 'Sim504']) expect((await c.post(0, entry('A', { account }))).body.decision).toBe('forwarded');
    expect(c.sim.received).toHaveLength(4);
    expect(await c.admin(0, 'GET', '/users')).toEqual({
      status: 503,
      body: { error: 'the admin lockout cannot be checked (the database did not answer): try again shortly' },
    });
    await c.query('ALTER TABLE rate_limits_away RENAME TO rate_limits');
    expect((await c.admin(0, 'GET', '/users')).status).toBe(200);
  });
});
