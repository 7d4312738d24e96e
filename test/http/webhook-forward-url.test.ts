import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { entry, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';

// Issue 9, adversarial: the client now builds the request path itself (a Pool per origin). What
// reaches CrossTrade must be the configured webhook URL's path and query, byte for byte as a URL.
describe('the webhook URL the order is POSTed to', () => {
  let rig: TestRig;
  let server: http.Server;
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rig.close();
  });

  it('keeps the configured path and query string (encoded characters, repeated slashes, semicolons)', async () => {
    const seen: string[] = [];
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    rig = await startTestRig();
    const paths = ['/v1/send/id/tok?x=1&y=a%20b', '/v1/send/a%2Fb/c;d', '/hooks//v1/send/id/tok/'];
    for (const [i, path] of paths.entries()) {
      await rig.relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: `${origin}${path}` });
      const answer = await rig.post(entry(`S${i}`, { account: `Acct${i}` }));
      expect(answer.body.decision).toBe('forwarded');
      expect(seen.at(-1)).toBe(`POST ${path}`);
    }
    expect(seen).toHaveLength(paths.length);
  });
});
