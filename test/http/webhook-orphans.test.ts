import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertText, entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Sequences that would leave a doubled or orphaned position if the relay trusted each alert alone.
describe('webhook: no orphaned or doubled positions across sequences', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });
  const book = () => rig.sim.positions('Sim101').map((p) => `${(p as { marketPosition: string }).marketPosition} ${(p as { quantity: number }).quantity}`);

  it('drops the exit of a strategy whose entry was blocked, after the owner has exited', async () => {
    await rig.post(entry('A'));
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    await rig.post(exit('A'));
    expect(book()).toEqual([]);
    expect((await rig.post(exit('B'))).body).toEqual({
      decision: 'dropped',
      signal_type: 'exit',
      reason: "phantom-exit: B's entry was blocked, it holds no position",
    });
    expect(book()).toEqual([]);
    // B is flat in its own view now: its next entry is an ordinary one.
    expect((await rig.post(entry('B'))).body.decision).toBe('forwarded');
    expect(book()).toEqual(['Long 1']);
  });

  it('blocks the reversal of a strategy whose entry was blocked', async () => {
    await rig.post(entry('A'));
    await rig.post(entry('B'));
    await rig.post(exit('A'));
    const reversal = await rig.post(alertText({ relayId: 'B', prev: 'long', now: 'short', action: 'SELL' }));
    expect(reversal.body).toEqual({
      decision: 'blocked',
      signal_type: 'reversal',
      reason: "not-owner: B's entry was blocked, its reversal would double the position",
    });
    expect(book()).toEqual([]);
  });

  it('keeps the owner while its exit is in flight, so another entry cannot slip in', async () => {
    await rig.post(entry('A'));
    rig.sim.failWebhook({ kind: 'hang' });
    const pendingExit = rig.post(exit('A'));
    while (rig.sim.received.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    rig.sim.failWebhook(null);
    const contested = await rig.post(entry('B'));
    expect(contested.body.decision).toBe('blocked');
    expect((await pendingExit).body.decision).toBe('failed');
    expect(rig.relay.store.listPositions('bob').map((p) => p.relayId)).toEqual(['A']);
    expect(book()).toEqual(['Long 1']);
  });

  it('marks a strategy whose entry definitely failed as holding nothing', async () => {
    rig.sim.failWebhook({ kind: 'status', status: 400 });
    expect((await rig.post(entry('A'))).body.decision).toBe('failed');
    rig.sim.failWebhook(null);
    expect((await rig.post(exit('A'))).body.decision).toBe('dropped');
    expect(rig.sim.received.filter((r) => r.status === 200)).toHaveLength(0);
  });

  it('refuses an alert that lists one account twice: CrossTrade would place it twice', async () => {
    const answer = await rig.post(entry('A', { account: 'Sim101, sim101' }));
    expect(answer).toMatchObject({
      status: 400,
      body: { decision: 'rejected', reason: 'account "sim101" is listed twice: CrossTrade would place the order twice' },
    });
    expect(rig.sim.received).toHaveLength(0);
  });

  it('refuses a cancel_after outside CrossTrade’s 1-60 minutes', async () => {
    const answer = await rig.post(entry('A', { orderType: 'LIMIT', extra: 'limit_price=1; cancel_after=200000000000' }));
    expect(answer).toMatchObject({ status: 400, body: { decision: 'rejected', reason: 'cancel_after must be a number of minutes from 1 to 60' } });
  });

  it('blocks an entry on an instrument it cannot read, since no check could ever clear it', async () => {
    const answer = await rig.post(entry('A', { instrument: 'ES 13-26' }));
    expect(answer.body).toEqual({
      decision: 'blocked',
      signal_type: 'entry',
      reason: 'instrument-unreadable: "ES 13-26" is not an instrument name the relay can check',
    });
    expect(rig.sim.received).toHaveLength(0);
  });

  it('does not double a position when the owner’s blocked reversal is followed by its exit', async () => {
    await rig.post(entry('A', { account: 'Sim101' }));
    await rig.post(entry('C', { account: 'Sim102' }));
    const reversal = await rig.post(alertText({ relayId: 'A', account: 'Sim101,Sim102', prev: 'long', now: 'short', action: 'SELL' }));
    expect(reversal.body.decision).toBe('blocked');
    // A's strategy now believes it is short on Sim101 and sends the exit of a short.
    const answer = await rig.post(alertText({ relayId: 'A', account: 'Sim101', prev: 'short', now: 'flat', action: 'BUY' }));
    expect(answer.body).toMatchObject({
      decision: 'dropped',
      reason: expect.stringMatching(/^direction-mismatch: A starts from short but its recorded position is long/),
    });
    expect(book()).toEqual(['Long 1']);
  });

  it('treats a cleared stale owner as holding nothing: its later reversal is blocked', async () => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // A was stopped out
    await rig.post(entry('B'));
    await rig.post(exit('B'));
    const reversal = await rig.post(alertText({ relayId: 'A', prev: 'long', now: 'short', action: 'SELL' }));
    expect(reversal.body.decision).toBe('blocked');
    expect(book()).toEqual([]);
  });
});
