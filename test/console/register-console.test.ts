import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_FAILURES_ALLOWED } from '../../src/http/routes/admin.js';
import { consoleRequest, loginConsole, postLogin } from '../helpers/console-client.js';
import { ADMIN_TOKEN, alertText, entry, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

describe('console: login, session and headers', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('sends a visitor without a session to the login form, and refuses data routes with 401', async () => {
    for (const path of ['/', '/console/log', '/console/strategies', '/console/users']) {
      const answer = await consoleRequest(rig.relay.url, path);
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')).toBe('/console/login');
    }
    for (const path of ['/console/now.json', '/console/events']) {
      const answer = await consoleRequest(rig.relay.url, path);
      expect(answer.status).toBe(401);
      expect(answer.text).toBe('log in to the console first');
    }
    const login = await consoleRequest(rig.relay.url, '/console/login');
    expect(login.status).toBe(200);
    expect(login.text).toContain('<input id="token" name="token" type="password"');
    expect(login.text).not.toContain('_csrf');
  });

  it('serves its stylesheet and script itself, without a session, under the same headers', async () => {
    const script = await consoleRequest(rig.relay.url, '/console/assets/console.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.text).toContain('textContent');
    expect(script.text).not.toContain('innerHTML');
    const style = await consoleRequest(rig.relay.url, '/console/assets/console.css');
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
    expect(style.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('sets the Content-Security-Policy without inline script, nosniff and no framing on every page', async () => {
    const client = await loginConsole(rig.relay.url);
    for (const path of ['/', '/console/log', '/console/strategies', '/console/users', '/console/login']) {
      const answer = await (path === '/console/login' ? consoleRequest(rig.relay.url, path) : client.get(path));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      // No inline script or style anywhere, so the policy loses nothing.
      expect(answer.text).not.toMatch(/<script>|<script [^>]*>[^<]|<style|style=|onclick=|onload=/i);
    }
  });

  it('answers a path that is no page (a typo under /console/) with the same headers', async () => {
    const client = await loginConsole(rig.relay.url);
    for (const path of ['/console/nope', '/console/log/%3Cscript%3E']) {
      const answer = await client.get(path);
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-security-policy')).toMatch(/^default-src 'none';.*frame-ancestors 'none'/);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.text).not.toContain('<script');
    }
  });

  it('logs in with the admin token: an HttpOnly, SameSite=Strict cookie with an expiry, not Secure over plain http', async () => {
    const login = await postLogin(rig.relay.url, ADMIN_TOKEN);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^relay_console=\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(ADMIN_TOKEN);
    const now = await consoleRequest(rig.relay.url, '/', { headers: { cookie: cookie.split(';')[0]! } });
    expect(now.status).toBe(200);
    expect(now.text).toContain('<h1>Now');
  });

  it('refuses a wrong token with 401 and no cookie, and a forged or altered cookie', async () => {
    const wrong = await postLogin(rig.relay.url, `${ADMIN_TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(wrong.text).toContain('Wrong admin token.');
    const client = await loginConsole(rig.relay.url);
    const [expiry, nonce, mac] = client.cookie.slice('relay_console='.length).split('.') as [string, string, string];
    for (const forged of [`${Number(expiry) + 1000}.${nonce}.${mac}`, `${expiry}.${nonce}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, 'x.y.z', '']) {
      const answer = await consoleRequest(rig.relay.url, '/console/now.json', { headers: { cookie: `relay_console=${forged}` } });
      expect(answer.status).toBe(401);
    }
  });

  it('ends a session at its expiry', async () => {
    const client = await loginConsole(rig.relay.url);
    rig.advance(12 * 60 * 60_000 - 1000);
    expect((await client.get('/console/now.json')).status).toBe(200);
    rig.advance(2000);
    expect((await client.get('/console/now.json')).status).toBe(401);
    expect((await client.get('/')).headers.get('location')).toBe('/console/login');
  });

  it('logs out: the cookie is cleared (a POST with the CSRF token)', async () => {
    const client = await loginConsole(rig.relay.url);
    expect((await client.post('/console/logout', { _csrf: null })).status).toBe(403);
    const out = await client.post('/console/logout', {});
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/console/login?out=1');
    expect(out.headers.get('set-cookie')).toMatch(/^relay_console=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/);
  });

  it('ends the session at logout: its cookie, copied before, is refused (on every instance); other sessions go on', async () => {
    const client = await loginConsole(rig.relay.url);
    const other = await loginConsole(rig.relay.url);
    expect((await client.post('/console/logout', {})).status).toBe(303);
    // The browser dropped the cookie; a copy of it (a stolen one) must not work either.
    expect((await client.get('/console/now.json')).status).toBe(401);
    expect((await client.get('/')).headers.get('location')).toBe('/console/login');
    expect((await other.get('/console/now.json')).status).toBe(200);
    expect((await loginConsole(rig.relay.url)).csrf).not.toBe(client.csrf);
  });

  it('leaves /webhook as it was: a form-encoded alert is still read as text, and needs no session', async () => {
    const answer = await rig.post(entry('A'), 'application/x-www-form-urlencoded');
    expect(answer.status).toBe(200);
    expect(answer.body.decision).toBe('forwarded');
  });

  it('counts failed logins in the management API lockout, both ways', async () => {
    for (let i = 0; i < ADMIN_FAILURES_ALLOWED - 1; i++) expect((await postLogin(rig.relay.url, 'wrong-token-123')).status).toBe(401);
    // The tenth failure is an API call: the address is now locked out of both.
    expect((await rig.admin('GET', '/users', undefined, 'Bearer wrong-token-123')).status).toBe(401);
    const locked = await postLogin(rig.relay.url, ADMIN_TOKEN);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('set-cookie')).toBeNull();
    expect(locked.text).toBe('too many failed admin attempts from this address: try again in 15 minutes');
    expect((await rig.admin('GET', '/users')).status).toBe(429);
    rig.advance(15 * 60_000);
    expect((await postLogin(rig.relay.url, ADMIN_TOKEN)).status).toBe(303);
  });

  it('counts guesses sent at once before answering them: ten are answered 401, none past them gets in', async () => {
    const guesses = Array.from({ length: 24 }, (_, n) => postLogin(rig.relay.url, `wrong-token-${n}`));
    // Past the tenth failure, the right token is locked out too.
    const answers = await Promise.all(guesses);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(ADMIN_FAILURES_ALLOWED);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(24 - ADMIN_FAILURES_ALLOWED);
    const right = await postLogin(rig.relay.url, ADMIN_TOKEN);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
  });
});

describe('console: CSRF', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('refuses every change without the session CSRF token, with a wrong one, or from another site', async () => {
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    const client = await loginConsole(rig.relay.url);
    const other = await loginConsole(rig.relay.url);
    const clear = { relay_user: 'bob', account: 'Sim101', instrument: 'ES', confirm: 'yes' };
    const user = { relay_user: 'amy', crosstrade_key: 'amy-crosstrade-key-123456', webhook_url: 'https://app.crosstrade.io/v1/send/aa/bb' };
    const changes: [string, Record<string, string>][] = [
      ['/console/positions/clear', clear],
      ['/console/users', user],
      ['/console/users/remove', { relay_user: 'bob', confirm: 'yes' }],
      ['/console/logout', {}],
    ];
    for (const [path, fields] of changes) {
      for (const csrf of [null, '', 'x'.repeat(43), other.csrf]) {
        const answer = await client.post(path, { ...fields, _csrf: csrf });
        expect(answer.status).toBe(403);
        expect(answer.text).toBe('missing or wrong CSRF token: reload the page and try again');
      }
      const crossSite = await client.post(path, fields, { origin: 'https://evil.example' });
      expect(crossSite.status).toBe(403);
      expect(crossSite.text).toBe('cross-site request refused');
    }
    expect((await rig.relay.store.listPositions()).map((p) => p.relayId)).toEqual(['A']);
    expect(await rig.relay.store.getUser('amy')).toBeNull();
    expect(await rig.relay.store.getUser('bob')).not.toBeNull();
    // The same form with its token and this host's Origin is taken.
    const taken = await client.post('/console/positions/clear', clear, { origin: rig.relay.url });
    expect(taken.status).toBe(303);
    expect(await rig.relay.store.listPositions()).toEqual([]);
  });

  it('refuses a login posted from another site', async () => {
    const answer = await consoleRequest(rig.relay.url, '/console/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('set-cookie')).toBeNull();
  });
});

describe('console: pages and changes', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('shows a held position on Now with its owner, direction and last decision, and as JSON', async () => {
    expect((await rig.post(entry('trend-A'))).body.decision).toBe('forwarded');
    const client = await loginConsole(rig.relay.url);
    const page = await client.get('/');
    expect(page.text).toContain('<td data-label="Owner">trend-A</td>');
    expect(page.text).toContain('<span class="dir-long">long 1</span>');
    expect(page.text).toContain('<span class="decision d-forwarded">forwarded</span>');
    const json = JSON.parse((await client.get('/console/now.json')).text);
    expect(json.rows).toMatchObject([
      { relay_user: 'bob', account: 'Sim101', instrument_key: 'ES', owner: 'trend-A', direction: 'long', last: { decision: 'forwarded' } },
    ]);
  });

  it('clears a position only after the confirmation, and logs it as an admin action with the source address', async () => {
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    const client = await loginConsole(rig.relay.url);
    const ask = await client.post('/console/positions/clear', { relay_user: 'bob', account: 'Sim101', instrument: 'ES' });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('Clear the position of bob on Sim101 / ES?');
    expect(ask.text).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(await rig.relay.store.listPositions()).toHaveLength(1);
    const done = await client.post('/console/positions/clear', { relay_user: 'bob', account: 'Sim101', instrument: 'ES', confirm: 'yes' });
    expect(done.headers.get('location')).toBe('/?notice=cleared');
    expect(await rig.relay.store.listPositions()).toEqual([]);
    const [row] = await rig.relay.store.listLogs({ decisions: ['admin'], limit: 5 });
    expect(row).toMatchObject({
      decision: 'admin',
      relayUser: 'bob',
      account: 'Sim101',
      instrument: 'ES',
      reason: 'position cleared in the console from 127.0.0.1',
    });
    expect((await client.get('/?notice=cleared')).text).toContain('Position cleared');
  });

  it('adds, edits and removes users with masked keys, each change an admin row; never shows a key', async () => {
    const client = await loginConsole(rig.relay.url);
    const added = await client.post('/console/users', {
      relay_user: 'amy',
      crosstrade_key: 'amy-crosstrade-key-123456',
      webhook_url: 'https://app.crosstrade.io/v1/send/aa/secret-path',
      relay_secret: 'amy-passphrase-1',
    });
    expect(added.headers.get('location')).toBe('/console/users?notice=created');
    const amy = await rig.relay.store.getUser('amy');
    expect(amy).toMatchObject({ crosstradeKey: 'amy-crosstrade-key-123456', paper: false });
    expect(amy?.relaySecret).toMatch(/^sha256:/);
    // Empty fields keep what the user has; paper is switched on.
    const edited = await client.post('/console/users', { relay_user: 'amy', crosstrade_key: '', webhook_url: '', relay_secret: '', paper: 'on' });
    expect(edited.headers.get('location')).toBe('/console/users?notice=now-paper');
    expect(await rig.relay.store.getUser('amy')).toMatchObject({ crosstradeKey: 'amy-crosstrade-key-123456', relaySecret: amy?.relaySecret, paper: true });
    const editForm = (await client.get('/console/users?edit=amy')).text;
    expect(editForm).toContain('<input id="relay_user" name="relay_user" required maxlength="64" value="amy">');
    expect(editForm).toContain('name="paper" value="on" checked');
    const page = await client.get('/console/users?notice=updated');
    expect(page.text).toContain('User updated.');
    // Typed in without Edit, the box unticked: the user goes live, and the page says so.
    const live = await client.post('/console/users', { relay_user: 'amy', crosstrade_key: '', webhook_url: '', relay_secret: '' });
    expect(live.headers.get('location')).toBe('/console/users?notice=now-live');
    expect((await client.get('/console/users?notice=now-live')).text).toContain('User updated, and now live: its orders go to CrossTrade with its key');
    expect((await rig.relay.store.getUser('amy'))?.paper).toBe(false);
    expect(page.text).toContain('<code>****3456</code>');
    for (const secret of ['amy-crosstrade-key-123456', 'secret-path', 'amy-passphrase-1', USER_KEY]) expect(page.text).not.toContain(secret);
    const bad = await client.post('/console/users', { relay_user: 'ann', crosstrade_key: 'short', webhook_url: 'https://app.crosstrade.io/v1/send/x' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('crosstrade_key must be at least 8 characters');
    expect(await rig.relay.store.getUser('ann')).toBeNull();
    const ask = await client.post('/console/users/remove', { relay_user: 'amy' });
    expect(ask.text).toContain('Remove amy?');
    expect(await rig.relay.store.getUser('amy')).not.toBeNull();
    expect((await client.post('/console/users/remove', { relay_user: 'amy', confirm: 'yes' })).headers.get('location')).toBe('/console/users?notice=removed');
    expect(await rig.relay.store.getUser('amy')).toBeNull();
    const actions = (await rig.relay.store.listLogs({ decisions: ['admin'], limit: 10 })).map((r) => `${r.relayUser}: ${r.reason}`);
    expect(actions).toEqual([
      'amy: user removed in the console from 127.0.0.1',
      'amy: user updated in the console from 127.0.0.1',
      'amy: user updated in the console from 127.0.0.1',
      'amy: user created in the console from 127.0.0.1',
    ]);
  });

  it('filters the signal log by user, strategy, decision and time; each row holds its alert and reason', async () => {
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    const client = await loginConsole(rig.relay.url);
    const all = await client.get('/console/log');
    expect(all.text.match(/<li data-id=/g)).toHaveLength(2);
    expect(all.text).toContain('owner-order-pending: owned by A');
    expect(all.text).toContain('relay_user=bob; relay_id=B; command=PLACE;');
    const blocked = await client.get('/console/log?decision=blocked');
    expect(blocked.text.match(/<li data-id=/g)).toHaveLength(1);
    expect(blocked.text).toContain('<span class="who">bob / B</span>');
    expect((await client.get('/console/log?strategy=A')).text).toContain('<span class="who">bob / A</span>');
    expect((await client.get('/console/log?user=nobody')).text).toContain('No entries match.');
    const future = new Date(rig.now() + 60 * 60_000).toISOString().slice(0, 16);
    expect((await client.get(`/console/log?since=${future}`)).text).toContain('No entries match.');
    const until = await client.get(`/console/log?until=${future}`);
    expect(until.text.match(/<li data-id=/g)).toHaveLength(2);
    expect(until.text).toContain('data-live="0"');
  });

  it("names what CrossTrade said apart from the relay's own time, and no CrossTrade for an alert that never reached it", async () => {
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await rig.post('relay_user=bob; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1;')).body.decision).toBe('rejected');
    const client = await loginConsole(rig.relay.url);
    const items = (await client.get('/console/log')).text.split('<li data-id=').slice(1);
    const [rejected, forwarded] = items as [string, string];
    expect(forwarded).toContain('<dt>CrossTrade</dt><dd class="meta">order answered HTTP 200</dd>');
    expect(forwarded).toMatch(/<dt>Handled in<\/dt><dd class="latency">\d+(\.\d+)? ms<\/dd>/);
    expect(rejected).toContain('missing relay_id');
    expect(rejected).not.toContain('<dt>CrossTrade</dt>');
    expect(rejected).toContain('<dt>Handled in</dt>');
  });

  it('reads a filter field given twice (a hand-made link) as not given, instead of failing with 500', async () => {
    const client = await loginConsole(rig.relay.url);
    for (const query of ['user=a&user=b', 'strategy=a&strategy=b', 'since=a&since=b', 'until=a&until=b']) {
      const answer = await client.get(`/console/log?${query}`);
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('<form method="get" action="/console/log"');
    }
  });

  it('counts per strategy and shows what arbitration cost: the blocked entry, its shadow position and its owner', async () => {
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await rig.post(alertText({ relayId: 'B', prev: 'flat', now: 'long', extra: 'market_position_size=2' }))).body.decision).toBe('blocked');
    const client = await loginConsole(rig.relay.url);
    const page = (await client.get('/console/strategies')).text;
    const cost = page.slice(page.indexOf('id="cost-table"'));
    expect(cost).toContain('<td data-label="Strategy">bob / B</td>');
    expect(cost).toContain('<td data-label="It believed">long 2</td>');
    expect(cost).toContain('<td data-label="Blocked by">A</td>');
    expect(page).toContain('<th>Period</th><th>Alerts</th><th>Forwarded</th><th>Blocked</th><th>Dropped</th><th>Failed</th><th>Rejected</th>');
    expect(page).toMatch(
      /bob<\/td>\s*<td data-label="Strategy"><a href="\/console\/log\?strategy=B&amp;user=bob">B<\/a><\/td>\s*<td data-label="Period">today<\/td>\s*<td data-label="Alerts">1<\/td><td data-label="Forwarded">0<\/td><td data-label="Blocked">1<\/td>/,
    );
  });

  it('never shows the user’s key or webhook URL pasted into an alert’s text, in the log page or the API', async () => {
    const url = rig.sim.webhookUrl(USER_KEY);
    const path = new URL(url).pathname;
    expect((await rig.post(alertText({ relayId: 'A', prev: 'flat', now: 'long', extra: `comment=${USER_KEY} ${url}` }))).body.decision).toBe('forwarded');
    expect((await rig.post(alertText({ relayId: 'B', prev: 'flat', now: 'long', extra: `comment=${path}` }))).body.decision).toBe('blocked');
    await rig.admin('POST', '/users', { relay_user: 'bob', crosstrade_key: USER_KEY, webhook_url: url, relay_secret: 'bobs-passphrase-0123' });
    expect((await rig.post(alertText({ relayId: 'C', extra: `relay_secret=wrong-one-0123; comment=${USER_KEY}` }))).status).toBe(403);
    const client = await loginConsole(rig.relay.url);
    const shown = [(await client.get('/console/log')).text, (await rig.admin('GET', '/logs?limit=10')).text];
    expect(shown[0]).toContain('comment=[removed]');
    for (const text of shown) {
      expect(text).not.toContain(USER_KEY);
      expect(text).not.toContain(path);
    }
  });

  it('escapes what alerts carry: markup in relay_id, comment and reason is shown as text', async () => {
    const hostile = '<script>alert(1)</script>';
    const image = '<img src=x onerror=alert(2)>';
    await rig.post(`relay_user=bob; relay_id=${hostile}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; comment=${image};`);
    await rig.post(alertText({ relayId: 'ok', extra: `comment=${image}` }));
    const client = await loginConsole(rig.relay.url);
    const page = (await client.get('/console/log')).text;
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
