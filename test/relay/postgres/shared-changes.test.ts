import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { entry, USER_KEY } from '../../helpers/start-test-relay.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

// Issue 10: users, the admin token and ownership changed through any instance (its HTTP API) or the
// CLI with --database-url are seen by every other instance at once: at its next request.

// Every user trades through the simulator's one CrossTrade user.
const CAROL_KEY = USER_KEY;

describe('changes made through one instance or the CLI, seen by all at once', () => {
  let cluster: Cluster | null = null;
  const temp = makeTempDir('trade-relay-cli-');
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });
  afterAll(() => temp.cleanup());

  /** The CLI on the cluster's database, with a data folder of its own (no settings file of the install folder). */
  const cli = (args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, RELAY_HOME: temp.dir };
    delete env.RELAY_ADMIN_TOKEN;
    return runCli([...args, '--database-url', cluster?.db.url ?? ''], { env });
  };

  it('users: added, changed and removed through one instance or the CLI, taken or refused by the others at the next alert', async () => {
    cluster = await startPgCluster({ size: 3 });
    const c = cluster;
    const carolEntry = entry('C1').replace('relay_user=bob', 'relay_user=carol');
    expect((await c.post(1, carolEntry)).body.reason).toBe('unknown relay_user "carol"');

    const added = await c.admin(0, 'POST', '/users', { relay_user: 'carol', crosstrade_key: CAROL_KEY, webhook_url: c.sim.webhookUrl(USER_KEY) });
    expect(added.status).toBe(201);
    expect((await c.admin(1, 'GET', '/users')).body.users.map((u: { relay_user: string }) => u.relay_user)).toEqual(['bob', 'carol']);
    expect((await c.post(2, carolEntry)).body).toMatchObject({ decision: 'forwarded' });

    // A passphrase set through instance 2 is required by instance 0 at once.
    expect(
      (
        await c.admin(2, 'POST', '/users', {
          relay_user: 'carol',
          crosstrade_key: CAROL_KEY,
          webhook_url: c.sim.webhookUrl(USER_KEY),
          relay_secret: 'pass-123456',
        })
      ).status,
    ).toBe(200);
    expect(await c.post(0, entry('C2').replace('relay_user=bob', 'relay_user=carol'))).toMatchObject({
      status: 401,
      body: { decision: 'rejected', reason: 'missing relay_secret: this relay_user requires one' },
    });

    expect((await c.admin(1, 'DELETE', '/users/carol')).status).toBe(200);
    expect(await c.post(0, entry('C3').replace('relay_user=bob', 'relay_user=carol'))).toMatchObject({
      status: 404,
      body: { reason: 'unknown relay_user "carol"' },
    });

    const cliAdded = await cli(['add-user', '--user', 'dave', '--key', USER_KEY, '--webhook-url', c.sim.webhookUrl(USER_KEY)]);
    expect(cliAdded).toMatchObject({ code: 0, stdout: expect.stringMatching(/^user dave created in PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:5432\//) });
    expect((await c.post(1, entry('D1', { account: 'Sim202' }).replace('relay_user=bob', 'relay_user=dave'))).body).toMatchObject({
      decision: 'forwarded',
    });
    expect((await cli(['remove-user', 'dave'])).code).toBe(0);
    expect((await c.post(2, entry('D2', { account: 'Sim202' }).replace('relay_user=bob', 'relay_user=dave'))).status).toBe(404);
  });

  it('the admin token: rotated with the CLI, the old one refused and the new one taken by every instance at its next request', async () => {
    cluster = await startPgCluster({ size: 3, overrides: { adminToken: undefined } });
    const c = cluster;
    const shown = await cli(['admin-token']);
    expect(shown.code).toBe(0);
    const old = shown.stdout.trim();
    for (const i of [0, 1, 2]) expect((await c.admin(i, 'GET', '/users', undefined, `Bearer ${old}`)).status).toBe(200);
    const rotated = await cli(['admin-token', '--rotate']);
    const fresh = rotated.stdout.trim();
    expect(fresh).not.toBe(old);
    for (const i of [0, 1, 2]) {
      expect((await c.admin(i, 'GET', '/users', undefined, `Bearer ${old}`)).status).toBe(401);
      expect((await c.admin(i, 'GET', '/users', undefined, `Bearer ${fresh}`)).status).toBe(200);
    }
  });

  it('ownership: taken through one instance, listed by another, released by a third or the CLI, and held against an entry through any', async () => {
    cluster = await startPgCluster({ size: 3 });
    const c = cluster;
    expect((await c.post(0, entry('A'))).body.decision).toBe('forwarded');
    expect((await c.admin(1, 'GET', '/positions')).body.positions).toMatchObject([{ relay_user: 'bob', relay_id: 'A', direction: 'long' }]);
    // Another strategy's entry through any other instance is blocked by A's ownership.
    expect((await c.post(2, entry('B'))).body).toMatchObject({ decision: 'blocked' });
    expect((await c.admin(2, 'POST', '/positions/clear', { relay_user: 'bob', account: 'Sim101', instrument: 'ES 03-26' })).status).toBe(200);
    expect((await c.admin(0, 'GET', '/positions')).body.positions).toEqual([]);
    // Released by hand, the key is in doubt: the position is still open at CrossTrade, so B is still blocked, wherever it comes in.
    expect((await c.post(1, entry('B2'))).body).toMatchObject({ decision: 'blocked' });

    expect((await c.post(1, entry('N', { instrument: 'NQ 03-26' }))).body.decision).toBe('forwarded');
    expect((await c.admin(0, 'GET', '/positions')).body.positions).toMatchObject([{ relay_id: 'N', instrument_key: 'NQ' }]);
    expect(await cli(['clear-position', 'bob', 'Sim101', 'NQ'])).toMatchObject({ code: 0 });
    expect((await c.admin(2, 'GET', '/positions')).body.positions).toEqual([]);
  });
});
