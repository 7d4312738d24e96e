import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN_SETTING, rotateAdminToken } from '../../src/relay/admin-token.js';
import { loginConsole, openEvents, type EventStream } from '../helpers/console-client.js';
import { entry, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

describe('console: live events', () => {
  let rig: TestRig;
  let streams: EventStream[];
  beforeEach(async () => {
    rig = await startTestRig();
    streams = [];
  });
  afterEach(async () => {
    for (const stream of streams) stream.close();
    await rig.close();
  });

  const open = async (cookie: string, after?: number) => {
    const stream = await openEvents(rig.relay.url, cookie, after);
    streams.push(stream);
    return stream;
  };

  it('streams each decision as it is made: the forward pending, then its outcome, to every browser', async () => {
    const client = await loginConsole(rig.relay.url);
    const first = await open(client.cookie, 0);
    const second = await open(client.cookie, 0);
    expect(first.status).toBe(200);
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    for (const stream of [first, second]) {
      await vi.waitFor(() => expect(stream.rows.map((r) => `${r.relay_id} ${r.decision}`)).toContain('B blocked'));
      await vi.waitFor(() => expect(stream.rows.map((r) => `${r.relay_id} ${r.decision}`)).toContain('A forwarded'));
      const blocked = stream.rows.find((r) => r.relay_id === 'B');
      expect(blocked).toMatchObject({ relay_user: 'bob', signal_type: 'entry', reason: expect.stringContaining('owned by A') });
      expect(blocked.alert).toContain('relay_id=B;');
    }
    expect(first.text()).toMatch(/^retry: 2000\n\n/);
  });

  it('sends a reconnecting browser the rows after the id it saw last', async () => {
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    const [newest, older] = await rig.relay.store.listLogs({ limit: 2 });
    const client = await loginConsole(rig.relay.url);
    const stream = await open(client.cookie, older!.id);
    await vi.waitFor(() => expect(stream.rows.map((r) => r.id)).toEqual([newest!.id]));
  });

  it('sends the stream under the pages’ security headers', async () => {
    const client = await loginConsole(rig.relay.url);
    const controller = new AbortController();
    const response = await fetch(`${rig.relay.url}/console/events`, { headers: { cookie: client.cookie }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'/);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    controller.abort();
  });

  it('refuses a stream without a session, and ends the open streams when the relay closes', async () => {
    const refused = await open('relay_console=1.x.y');
    expect(refused.status).toBe(401);
    const client = await loginConsole(rig.relay.url);
    const stream = await open(client.cookie);
    expect(stream.status).toBe(200);
    await rig.relay.app.close();
    await vi.waitFor(() => expect(stream.text()).toBe('retry: 2000\n\n'));
  });
  it('drops a browser that stopped reading instead of holding every row for it; the others keep theirs', async () => {
    const client = await loginConsole(rig.relay.url);
    const reader = await open(client.cookie);
    // A stream whose client never reads: paused from the first byte.
    const port = new URL(rig.relay.url).port;
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = 0;
    let closed = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    // Reads the answer's head, then nothing more.
    socket.once('data', () => socket.pause());
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => undefined);
    socket.write(`GET /console/events HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncookie: ${client.cookie}\r\n\r\n`);
    await vi.waitFor(() => expect(received).toBeGreaterThan(0));
    // As large as an alert gets (the webhook takes 16 KiB), 16 MiB in all.
    const alert = 'x'.repeat(16 * 1024);
    const rows = 1024;
    // In bursts the feed sends whole (one look reads 200 rows at most), each seen by the reading browser.
    for (let i = 0; i < rows; i += 1) {
      await rig.relay.store.appendLog({
        time: rig.now(),
        relayUser: 'bob',
        relayId: `R${i}`,
        account: null,
        instrument: null,
        signalType: null,
        decision: 'rejected',
        reason: 'big',
        apiCheck: null,
        upstreamStatus: null,
        latencyMs: 0,
        alert,
      });
      if ((i + 1) % 128 === 0) await vi.waitFor(() => expect(reader.rows).toHaveLength(i + 1), { timeout: 5000 });
    }
    // The reading browser got every row, so the paused one was sent them too.
    socket.resume();
    await vi.waitFor(() => expect(closed).toBe(true), { timeout: 10_000 });
    expect(received).toBeLessThan(rows * alert.length);
    expect(rig.logFileText()).toContain('console live feed: a browser stopped reading');
  }, 60_000);
});

describe('console: a rotated admin token', () => {
  it('ends every session: the old cookie is refused, a login with the new token works', async () => {
    const rig = await startTestRig({ adminToken: undefined });
    try {
      const stored = (await rig.relay.store.getSetting(ADMIN_TOKEN_SETTING))!;
      const client = await loginConsole(rig.relay.url, stored);
      expect((await client.get('/console/now.json')).status).toBe(200);
      const rotated = await rotateAdminToken(rig.relay.store);
      expect((await client.get('/console/now.json')).status).toBe(401);
      expect((await client.get('/')).headers.get('location')).toBe('/console/login');
      const again = await loginConsole(rig.relay.url, rotated);
      expect((await again.get('/console/now.json')).status).toBe(200);
    } finally {
      await rig.close();
    }
  });
});
