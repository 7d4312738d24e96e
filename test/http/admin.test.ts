import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_SETTING, rotateAdminToken } from '../../src/relay/admin-token.js';
import { ADMIN_TOKEN, entry, exit, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

const ROUTES: [string, string, unknown?][] = [
  ['GET', '/positions'],
  ['GET', '/logs'],
  ['GET', '/users'],
  ['POST', '/users', { relay_user: 'amy', crosstrade_key: 'amy-crosstrade-key-123456', webhook_url: 'https://app.crosstrade.io/v1/send/aa/bb' }],
  ['DELETE', '/users/bob'],
  ['POST', '/positions/clear', { relay_user: 'bob', account: 'Sim101', instrument: 'ES' }],
];

describe('management API', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('answers /health without a token', async () => {
    const answer = await rig.admin('GET', '/health', undefined, null);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('ok');
  });

  it.each(ROUTES)('refuses %s %s without a token, with a wrong one, and with one differing in the last character', async (method, path, body) => {
    const wrongLast = `${ADMIN_TOKEN.slice(0, -1)}${ADMIN_TOKEN.endsWith('f') ? 'e' : 'f'}`;
    for (const authorization of [null, 'Bearer nope', `Bearer ${wrongLast}`, ADMIN_TOKEN, `Basic ${ADMIN_TOKEN}`]) {
      const answer = await rig.admin(method, path, body, authorization);
      expect(answer.status).toBe(401);
      expect(answer.text).not.toContain(ADMIN_TOKEN);
    }
    expect(await rig.relay.store.getUser('bob')).not.toBeNull(); // nothing changed
    expect(await rig.relay.store.getUser('amy')).toBeNull();
  });

  it('adds, lists (masked), replaces and removes users', async () => {
    const created = await rig.admin('POST', '/users', {
      relay_user: 'amy',
      crosstrade_key: 'amy-crosstrade-key-123456',
      webhook_url: 'https://app.crosstrade.io/v1/send/aa/bb',
    });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ relay_user: 'amy', crosstrade_key: '****3456', webhook_url: 'https://app.crosstrade.io/****' });
    expect(created.body.warning).toBeUndefined();
    // Another host than CrossTrade's is taken, with a warning (issue 8, "Webhook URLs").
    const elsewhere = await rig.admin('POST', '/users', {
      relay_user: 'ann',
      crosstrade_key: 'ann-crosstrade-key-123456',
      webhook_url: 'https://hooks.example.com/v1/send/aa/bb',
    });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.warning).toMatch(/host hooks\.example\.com is not CrossTrade's/);
    await rig.admin('DELETE', '/users/ann');
    const updated = await rig.admin('POST', '/users', {
      relay_user: 'amy',
      crosstrade_key: 'amy-crosstrade-key-999999',
      webhook_url: 'https://app.crosstrade.io/v1/send/cc/dd',
    });
    expect(updated.status).toBe(200);
    const list = await rig.admin('GET', '/users');
    expect(list.body.users.map((u: { relay_user: string; crosstrade_key: string }) => [u.relay_user, u.crosstrade_key])).toEqual([
      ['amy', '****9999'],
      ['bob', '****3456'],
    ]);
    expect(list.text).not.toContain('amy-crosstrade-key');
    expect(list.text).not.toContain(USER_KEY);
    expect(list.text).not.toContain('/v1/send/');
    expect((await rig.admin('DELETE', '/users/amy')).body).toEqual({ removed: true, relay_user: 'amy' });
    expect((await rig.admin('DELETE', '/users/amy')).status).toBe(404);
  });

  it.each([
    [{ relay_user: 'amy', crosstrade_key: 'short', webhook_url: 'https://x.test/a' }, 'crosstrade_key must be at least 8 characters'],
    [{ relay_user: 'amy', crosstrade_key: 'has;semicolon', webhook_url: 'https://x.test/a' }, 'crosstrade_key must not contain spaces, ";" or "="'],
    [
      { relay_user: 'amy', crosstrade_key: 'amy-crosstrade-key-123456', webhook_url: 'ftp://x.test/a' },
      'webhook_url must be an https URL, e.g. https://app.crosstrade.io/v1/send/...',
    ],
    // Issue 8, case 10: the same rule as add-user (src/http/schemas.ts, webhookUrlProblem).
    [
      { relay_user: 'amy', crosstrade_key: 'amy-crosstrade-key-123456', webhook_url: 'http://example.com/v1/send/a/b' },
      'webhook_url must use https (plain http only for a simulator on this machine): the order and the CrossTrade key would cross the internet in clear, e.g. https://app.crosstrade.io/v1/send/...',
    ],
    [
      { relay_user: 'amy', crosstrade_key: 'amy-crosstrade-key-123456', webhook_url: 'https://app.crosstrade.io' },
      'webhook_url has no path: copy the whole webhook URL from CrossTrade, e.g. https://app.crosstrade.io/v1/send/...',
    ],
    [{ relay_user: 'a b', crosstrade_key: 'amy-crosstrade-key-123456', webhook_url: 'https://x.test/a' }, 'relay_user must be 1-64 letters, digits or _.@:-'],
  ])('rejects an invalid user %o with a reason and without echoing the key', async (body, error) => {
    const answer = await rig.admin('POST', '/users', body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error });
    expect(await rig.relay.store.getUser('amy')).toBeNull();
  });

  it('writes every change to the signal log as an admin row with its source address, and a refused change none', async () => {
    await rig.post(entry('A'));
    await rig.admin('POST', '/users', {
      relay_user: 'amy',
      crosstrade_key: 'ct-amy-key-123456',
      webhook_url: 'https://app.crosstrade.io/v1/send/amy/secret-path',
    });
    await rig.admin('POST', '/positions/clear', { relay_user: 'bob', account: 'Sim101', instrument: 'ES 03-26' });
    await rig.admin('DELETE', '/users/amy');
    expect((await rig.admin('DELETE', '/users/nobody')).status).toBe(404);
    expect((await rig.admin('POST', '/users', { relay_user: 'bad name!' })).status).toBe(400);
    const rows = await rig.relay.store.listLogs({ decisions: ['admin'], limit: 10 });
    expect(rows.map((r) => [r.relayUser, r.account, r.instrument, r.reason])).toEqual([
      ['amy', null, null, 'user removed through the management API from 127.0.0.1'],
      ['bob', 'Sim101', 'ES', 'position cleared through the management API from 127.0.0.1'],
      ['amy', null, null, 'user created through the management API from 127.0.0.1'],
    ]);
    for (const row of rows) expect(row.alert).not.toContain('ct-amy-key');
  });

  it('lists positions (all or per user) and clears one by any name of its instrument; its strategy then holds nothing', async () => {
    await rig.post(entry('A', { instrument: 'ESH26' }));
    const positions = await rig.admin('GET', '/positions?relay_user=bob');
    expect(positions.body.positions).toMatchObject([
      { relay_user: 'bob', account: 'Sim101', instrument: 'ESH26', relay_id: 'A', direction: 'long', doubt: null },
    ]);
    expect((await rig.admin('GET', '/positions?relay_user=amy')).body).toEqual({ positions: [] });
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // the trader closed it by hand in NinjaTrader
    const cleared = await rig.admin('POST', '/positions/clear', { relay_user: 'bob', account: 'sim101', instrument: 'ES 03-26' });
    expect(cleared.body).toEqual({ cleared: true, relay_user: 'bob', account: 'sim101', instrument: 'ES' });
    expect((await rig.admin('GET', '/positions')).body).toEqual({ positions: [] });
    expect((await rig.admin('POST', '/positions/clear', { relay_user: 'bob', account: 'Sim101', instrument: 'ES' })).status).toBe(404);
    // A's strategy still believes it is long: its exit must not open an orphaned short
    expect((await rig.post(exit('A', { instrument: 'ESH26' }))).body).toEqual({
      decision: 'dropped',
      signal_type: 'exit',
      reason: 'phantom-exit: A holds no position here',
    });
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.book()).toEqual([]);
  });

  it('releases a removed user’s positions: after it is added again, its strategy’s exit opens no orphan', async () => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // closed by hand
    expect((await rig.admin('DELETE', '/users/bob')).body).toEqual({ removed: true, relay_user: 'bob' });
    expect((await rig.admin('GET', '/positions')).body).toEqual({ positions: [] });
    const added = await rig.admin('POST', '/users', { relay_user: 'bob', crosstrade_key: USER_KEY, webhook_url: rig.sim.webhookUrl(USER_KEY) });
    expect(added.status).toBe(201);
    const late = await rig.post(exit('A'));
    expect(late.body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: A holds no position here' });
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.book()).toEqual([]);
  });

  it('lists the signal log newest first, per user, with a limit', async () => {
    await rig.post(entry('A'));
    await rig.post(entry('B'));
    const logs = await rig.admin('GET', '/logs?relay_user=bob&limit=1');
    expect(logs.body.logs).toHaveLength(1);
    expect(logs.body.logs[0]).toMatchObject({ relay_id: 'B', decision: 'blocked', signal_type: 'entry' });
    expect((await rig.admin('GET', '/logs?limit=0')).status).toBe(400);
    expect(logs.text).not.toContain(USER_KEY);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('sees a user the CLI or another process added at once (no cache)', async () => {
    await rig.relay.store.saveUser({ relayUser: 'amy', crosstradeKey: USER_KEY, webhookUrl: rig.sim.webhookUrl(USER_KEY) });
    const answer = await fetch(`${rig.relay.url}/webhook`, { method: 'POST', body: entry('A').replace('relay_user=bob', 'relay_user=amy') });
    expect(((await answer.json()) as { decision: string }).decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });
});

describe('management API without RELAY_ADMIN_TOKEN', () => {
  it('generates a token on first start, keeps it in the database and accepts only it', async () => {
    const rig = await startTestRig({ adminToken: undefined });
    try {
      const stored = await rig.relay.store.getSetting(ADMIN_TOKEN_SETTING);
      expect(stored).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await rig.admin('GET', '/users', undefined, 'Bearer anything-at-all-1234')).status).toBe(401);
      expect((await rig.admin('GET', '/users', undefined, `Bearer ${stored}`)).status).toBe(200);
      // A rotation (trade-relay admin-token --rotate) takes effect at the next request.
      const rotated = await rotateAdminToken(rig.relay.store);
      expect((await rig.admin('GET', '/users', undefined, `Bearer ${stored}`)).status).toBe(401);
      expect((await rig.admin('GET', '/users', undefined, `Bearer ${rotated}`)).status).toBe(200);
      await rig.relay.close();
      expect(rig.logFileText()).toContain(
        'generated an admin token for the management API and stored it in the database: show it with `npx trade-relay admin-token`',
      );
      expect(rig.logFileText()).not.toContain(stored!);
      expect(rig.logFileText()).not.toContain(rotated);
    } finally {
      await rig.close();
    }
  });

  it('refuses an address for 15 minutes after 10 failed attempts (429), even with the right token', async () => {
    const rig = await startTestRig();
    try {
      for (let i = 0; i < 10; i++) expect((await rig.admin('GET', '/users', undefined, `Bearer wrong-${i}`)).status).toBe(401);
      const locked = await rig.admin('GET', '/users');
      expect(locked.status).toBe(429);
      expect(locked.body).toEqual({ error: 'too many failed admin attempts from this address: try again in 15 minutes' });
      expect((await rig.admin('GET', '/health', undefined, null)).status).toBe(200);
    } finally {
      await rig.close();
    }
  });

  it('counts guesses sent all at once each: no more than 10 are answered as anything but locked out', async () => {
    const rig = await startTestRig();
    try {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => rig.admin('GET', '/users', undefined, `Bearer guess-${i}`)));
      expect(answers.filter((a) => a.status === 401)).toHaveLength(10);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(20);
      expect((await rig.admin('GET', '/users')).status).toBe(429);
    } finally {
      await rig.close();
    }
  });

  it('clears an address’s failed attempts when it sends the right token', async () => {
    const rig = await startTestRig();
    try {
      for (let i = 0; i < 9; i++) expect((await rig.admin('GET', '/users', undefined, `Bearer wrong-${i}`)).status).toBe(401);
      expect((await rig.admin('GET', '/users')).status).toBe(200);
      for (let i = 0; i < 9; i++) expect((await rig.admin('GET', '/users', undefined, `Bearer wrong-again-${i}`)).status).toBe(401);
      expect((await rig.admin('GET', '/users')).status).toBe(200);
      // Still counted: ten in a row lock the address.
      for (let i = 0; i < 10; i++) await rig.admin('GET', '/users', undefined, `Bearer wrong-third-${i}`);
      expect((await rig.admin('GET', '/users')).status).toBe(429);
    } finally {
      await rig.close();
    }
  });
});

describe('secrets', () => {
  it('never appear in a response, the signal log or the log file', async () => {
    const rig = await startTestRig();
    const seen: string[] = [];
    try {
      const webhookSecret = new URL(rig.sim.webhookUrl(USER_KEY)).pathname;
      seen.push(JSON.stringify(await rig.post(entry('A'))));
      seen.push(JSON.stringify(await rig.post(entry('B'))));
      seen.push(JSON.stringify(await rig.post(`key=${USER_KEY}; relay_user=bob; relay_id=A; nonsense`)));
      rig.sim.failWebhook({ kind: 'status', status: 500, times: 1 });
      const ambiguous = await rig.post(exit('A'));
      expect(ambiguous.body.decision).toBe('unknown');
      seen.push(JSON.stringify(ambiguous));
      for (const path of ['/users', '/positions', '/logs?limit=100']) seen.push((await rig.admin('GET', path)).text);
      await rig.relay.close();
      const everything = seen.join('\n') + rig.logFileText();
      expect(rig.logFileText()).toContain('alert forwarded');
      expect(rig.logFileText()).toContain('forward to CrossTrade failed');
      for (const secret of [USER_KEY, ADMIN_TOKEN, webhookSecret]) expect(everything).not.toContain(secret);
      expect(rig.book()).toEqual(['Long 1']);
    } finally {
      await rig.close();
    }
  });
});
