import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { entry, exit, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';

// Issue 9, adversarial: the forward's deadline (a plain timer on a per-origin Pool) must also cover
// the connect phase. An HTTPS webhook whose server takes the TCP connection and never completes the
// TLS handshake: the answer comes inside TradingView's 3 s, never 5xx, and the book is judged.
describe('a webhook that hangs in the TLS handshake', () => {
  let rig: TestRig;
  let server: net.Server;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rig.close();
  });

  it('answers inside the budget as an unknown outcome, never places anything, and lets nothing stack on the key', async () => {
    server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    rig = await startTestRig();
    await rig.relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: `https://127.0.0.1:${port}/v1/send/abc/def` });
    const first = await rig.post(entry('A'));
    expect(first.status).toBe(200);
    expect(first.body.decision).toBe('unknown');
    expect(first.ms).toBeLessThan(3000);
    // B's entry: A's order may have been placed. The simulator's account reads flat, but A's hold is not over.
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    // A's own exit while its entry's outcome is unknown: checked against the account (flat), not sent.
    const closed = await rig.post(exit('A'));
    expect(closed.body.decision).not.toBe('forwarded');
    expect(rig.sim.received).toEqual([]);
    expect(rig.book()).toEqual([]);
  });
});
