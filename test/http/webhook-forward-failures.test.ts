import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/closed-port.js';
import { entry, exit, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

// A forward's outcome is the truth the relay answers with: 200 for every outcome, since after an order
// may have left a 5xx would make TradingView send it again (docs/external-systems.md §1.1).
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
  // A forward's outcome is written just after the answer leaves (queued, then flushed on the next turn).
  const owners = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return (await rig.relay.store.listPositions('bob')).map((p) => [p.relayId, p.doubt]);
  };
  const lastLog = async () => (await rig.relay.store.listLogs({ relayUser: 'bob', limit: 1 }))[0];
  const unknownReason = (reason: string) =>
    `outcome-unknown: ${reason}; the order may have reached CrossTrade: the next alert of this position is checked against CrossTrade`;

  it('answers 200 `failed` and records no owner when CrossTrade refuses the connection (definite failure); the later exit is not sent', async () => {
    await rig.relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: `http://127.0.0.1:${await closedPort()}/v1/send/x/y` });
    const answer = await rig.post(entry('A'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ decision: 'failed', signal_type: 'entry', reason: 'forward-failed: upstream-connection-refused; nothing was placed' });
    expect(await owners()).toEqual([]);
    expect(await lastLog()).toMatchObject({ decision: 'failed', upstreamStatus: null });
    // A's strategy believes it is long; it holds nothing here, so its exit would open an orphan
    await rig.relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: rig.sim.webhookUrl(USER_KEY) });
    expect((await rig.post(exit('A'))).body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: A holds no position here' });
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual([]);
  });

  it('answers 200 `failed` and records no owner when CrossTrade answers 4xx (definite failure); the later exit is not sent', async () => {
    rig.sim.failWebhook({ kind: 'status', status: 400, times: 1 });
    const answer = await rig.post(entry('A'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ decision: 'failed', signal_type: 'entry', reason: 'forward-failed: upstream-http-400; nothing was placed' });
    expect(await owners()).toEqual([]);
    expect(await lastLog()).toMatchObject({ decision: 'failed', upstreamStatus: 400 });
    expect((await rig.post(exit('A'))).body.decision).toBe('dropped');
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.book()).toEqual([]);
  });

  it.each([
    [{ kind: 'status', status: 503 } as const, 'upstream-http-503'],
    [{ kind: 'hang' } as const, 'upstream-timeout'],
    [{ kind: 'drop' } as const, 'upstream-connection-lost'],
  ])('answers 200 `unknown` and keeps the new owner in doubt when the outcome is ambiguous (%o); the next exit follows the account', async (fault, reason) => {
    for (const apply of [false, true]) {
      rig.sim.reset();
      await rig.relay.store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' });
      const tag = `comment=${apply ? 'applied' : 'lost'}`;
      rig.sim.failWebhook({ ...fault, apply, times: 1 });
      const answer = await rig.post(entry('A', { extra: tag }));
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ decision: 'unknown', signal_type: 'entry', reason: unknownReason(reason) });
      expect(answer.ms).toBeLessThan(3000);
      expect(await owners()).toEqual([['A', 'unknown-outcome']]);
      expect(await lastLog()).toMatchObject({ decision: 'unknown' });
      expect(rig.book()).toEqual(apply ? ['Long 1'] : []);
      // The record is in doubt: A's exit is checked against CrossTrade and sent only if the entry filled.
      const closing = await rig.post(exit('A', { extra: tag }));
      expect(closing.body.decision).toBe(apply ? 'forwarded' : 'dropped');
      if (!apply) expect(closing.body.reason).toMatch(/^position-mismatch: record-uncertain: .*; CrossTrade reports flat/);
      // The second round's entry is checked too: the key released by hand stays in doubt.
      expect(rig.sim.apiCalls).toBe(apply ? 2 : 1);
      expect(rig.book()).toEqual([]);
    }
  });

  it('keeps the owner when its exit fails, ambiguous or definite, and checks the next exit against CrossTrade', async () => {
    await rig.post(entry('A'));
    rig.sim.failWebhook({ kind: 'status', status: 500, times: 1 });
    const ambiguous = await rig.post(exit('A'));
    expect(ambiguous.status).toBe(200);
    expect(ambiguous.body).toEqual({ decision: 'unknown', signal_type: 'exit', reason: unknownReason('upstream-http-500') });
    expect(await owners()).toEqual([['A', 'unknown-outcome']]);
    expect(rig.book()).toEqual(['Long 1']);
    // The exit may have reached NinjaTrader without showing yet: a reading of Long 1 inside its fill grace proves nothing.
    const early = await rig.post(exit('A', { extra: 'comment=early' }));
    expect(early.body).toMatchObject({ decision: 'dropped', reason: expect.stringMatching(/^position-check-inconclusive: record-uncertain: /) });
    rig.advance(10_001);
    rig.sim.failWebhook({ kind: 'status', status: 400, times: 1 });
    const refused = await rig.post(exit('A', { extra: 'comment=again' }));
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ decision: 'failed', signal_type: 'exit', reason: 'forward-failed: upstream-http-400; nothing was placed' });
    // CrossTrade read Long 1; the refused exit leaves the strategy believing otherwise than the record: checked again next time
    expect((await rig.relay.store.listLogs({ relayUser: 'bob', limit: 1 }))[0]).toMatchObject({ decision: 'failed', apiCheck: 'open: Long 1 ES 03-26' });
    expect(await owners()).toEqual([['A', 'changed']]);
    expect(rig.book()).toEqual(['Long 1']);
    const delivered = await rig.post(exit('A', { extra: 'comment=once more' }));
    expect(delivered.body).toEqual({
      decision: 'forwarded',
      signal_type: 'exit',
      reason: 'exit: A owns the position; reconciled: CrossTrade reports Long 1 ES 03-26',
    });
    expect(await owners()).toEqual([]);
    expect(rig.book()).toEqual([]);
  });

  it('never opens an orphan short when an exit reached CrossTrade but was answered 500: the repeat is checked and dropped', async () => {
    await rig.post(entry('A'));
    rig.sim.failWebhook({ kind: 'status', status: 500, apply: true, times: 1 });
    expect((await rig.post(exit('A'))).body.decision).toBe('unknown');
    expect(rig.book()).toEqual([]);
    expect(await owners()).toEqual([['A', 'unknown-outcome']]); // an exit keeps its owner until the account says otherwise
    const repeat = await rig.post(exit('A', { extra: 'comment=repeat' }));
    expect(repeat.body.decision).toBe('dropped');
    expect(repeat.body.reason).toMatch(/^position-mismatch: record-uncertain: .*; CrossTrade reports flat/);
    expect(rig.sim.received).toHaveLength(2);
    expect(rig.book()).toEqual([]);
  });

  it('answers inside TradingView’s 3 s, never 5xx, when both the API check and the forward hang', async () => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.advance(10_001); // past A's fill grace: B's entry is checked against CrossTrade
    rig.sim.failApi({ kind: 'hang' });
    rig.sim.failWebhook({ kind: 'hang' });
    const blocked = await rig.post(entry('B'));
    expect(blocked.status).toBe(200);
    expect(blocked.body).toEqual({
      decision: 'blocked',
      signal_type: 'entry',
      reason: 'position-check-failed: owned by A, CrossTrade check failed (api-timeout)',
    });
    rig.sim.failApi(null);
    const hung = await rig.post(entry('B', { extra: 'comment=again' }));
    expect(hung.status).toBe(200);
    expect(hung.body).toEqual({ decision: 'unknown', signal_type: 'entry', reason: unknownReason('upstream-timeout') });
    expect(blocked.ms).toBeLessThan(3000);
    expect(hung.ms).toBeLessThan(3000);
    expect(await owners()).toEqual([['B', 'unknown-outcome']]);
    expect(rig.book()).toEqual([]);
    // and the relay keeps serving
    expect((await fetch(`${rig.relay.url}/health`)).status).toBe(200);
  });
});
