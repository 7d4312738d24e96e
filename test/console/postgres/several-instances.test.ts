import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { csrfOf, type EventStream, loginConsole, openEvents } from '../../helpers/console-client.js';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { entry } from '../../helpers/start-test-relay.js';

describe('console: several instances on one PostgreSQL database', () => {
  let cluster: Cluster;
  let streams: EventStream[];
  beforeEach(async () => {
    cluster = await startPgCluster({ size: 2 });
    streams = [];
  });
  afterEach(async () => {
    for (const stream of streams) stream.close();
    await cluster.close();
  });

  it('takes a session from any instance, and streams alerts another instance decided', async () => {
    const [a, b] = cluster.instances as [{ url: string }, { url: string }];
    const client = await loginConsole(a.url);
    // The same cookie and CSRF token on the other instance: nothing is stored per session.
    const onB = await fetch(`${b.url}/`, { headers: { cookie: client.cookie }, redirect: 'manual' });
    expect(onB.status).toBe(200);
    expect(csrfOf(await onB.text())).toBe(client.csrf);
    const stream = await openEvents(a.url, client.cookie, 0);
    streams.push(stream);
    expect(stream.status).toBe(200);
    expect((await cluster.post(1, entry('A'))).body.decision).toBe('forwarded');
    await vi.waitFor(() => expect(stream.rows.map((r) => `${r.relay_id} ${r.decision}`)).toContain('A forwarded'));
    // A change through instance B with the page of instance A.
    const clear = await fetch(`${b.url}/console/positions/clear`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: client.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: client.csrf, relay_user: 'bob', account: 'Sim101', instrument: 'ES', confirm: 'yes' }).toString(),
    });
    expect(clear.headers.get('location')).toBe('/?notice=cleared');
    await vi.waitFor(() => expect(stream.rows.map((r) => `${r.decision} ${r.reason}`)).toContain('admin position cleared in the console from 127.0.0.1'));
  });

  it('ends a session logged out on one instance on the others too', async () => {
    const [a, b] = cluster.instances as [{ url: string }, { url: string }];
    const client = await loginConsole(a.url);
    const other = await loginConsole(b.url);
    expect((await client.post('/console/logout', {})).status).toBe(303);
    const onB = await fetch(`${b.url}/console/now.json`, { headers: { cookie: client.cookie } });
    expect(onB.status).toBe(401);
    const otherOnA = await fetch(`${a.url}/console/now.json`, { headers: { cookie: other.cookie } });
    expect(otherOnA.status).toBe(200);
  });
});
