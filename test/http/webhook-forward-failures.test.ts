import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/closed-port.js';
import { entry, exit, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

describe('webhook: a failed forward', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    // Whatever CrossTrade did, the relay keeps serving.
    expect((await fetch(`${rig.relay.url}/health`)).status).toBe(200);
    await rig.close();
  });
  const owners = () => rig.relay.store.listPositions('bob').map((p) => p.relayId);
  const lastLog = () => rig.relay.store.listLogs({ relayUser: 'bob', limit: 1 })[0];

  it('leaves ownership as it was when CrossTrade refuses the connection (definite failure)', async () => {
    rig.relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: `http://127.0.0.1:${await closedPort()}/v1/send/x/y` });
    const answer = await rig.post(entry('A'));
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ decision: 'failed', signal_type: 'entry', reason: 'forward-failed: upstream-connection-refused' });
    expect(owners()).toEqual([]);
    expect(lastLog()).toMatchObject({ decision: 'failed', upstreamStatus: null });
  });

  it('leaves ownership as it was when CrossTrade answers 4xx (definite failure)', async () => {
    rig.sim.failWebhook({ kind: 'status', status: 400 });
    const answer = await rig.post(entry('A'));
    expect(answer.status).toBe(502);
    expect(answer.body.reason).toBe('forward-failed: upstream-http-400');
    expect(owners()).toEqual([]);
    expect(lastLog()).toMatchObject({ decision: 'failed', upstreamStatus: 400 });
  });

  it.each([
    [{ kind: 'status', status: 503 } as const, 'upstream-http-503'],
    [{ kind: 'hang' } as const, 'upstream-timeout'],
    [{ kind: 'drop' } as const, 'upstream-connection-lost'],
  ])('keeps the new ownership when the outcome is ambiguous (%o): the order may have reached NinjaTrader', async (fault, reason) => {
    rig.sim.failWebhook(fault);
    const answer = await rig.post(entry('A'));
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({
      decision: 'failed',
      signal_type: 'entry',
      reason: `forward-failed: ${reason} (the order may have reached CrossTrade; ownership kept)`,
    });
    expect(answer.ms).toBeLessThan(3000);
    expect(owners()).toEqual(['A']);
  });

  it('gives the ownership back when an exit’s forward fails, definite or ambiguous', async () => {
    await rig.post(entry('A'));
    rig.sim.failWebhook({ kind: 'status', status: 500 });
    expect((await rig.post(exit('A'))).body.decision).toBe('failed');
    expect(owners()).toEqual(['A']);
    rig.sim.failWebhook({ kind: 'status', status: 400 });
    expect((await rig.post(exit('A'))).body.decision).toBe('failed');
    expect(owners()).toEqual(['A']);
    rig.sim.failWebhook(null);
    expect((await rig.post(exit('A'))).body.decision).toBe('forwarded');
    expect(owners()).toEqual([]);
  });

  it('answers inside TradingView’s 3 s when both the API check and the forward hang', async () => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.sim.failApi({ kind: 'hang' });
    rig.sim.failWebhook({ kind: 'hang' });
    const blocked = await rig.post(entry('B'));
    expect(blocked.body.decision).toBe('blocked');
    rig.sim.failApi(null);
    const failed = await rig.post(entry('B'));
    expect(failed.body.decision).toBe('failed');
    expect(blocked.ms).toBeLessThan(3000);
    expect(failed.ms).toBeLessThan(3000);
    // and the relay keeps serving
    expect((await fetch(`${rig.relay.url}/health`)).status).toBe(200);
  });
});
