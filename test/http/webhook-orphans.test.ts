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
  const book = (account?: string) => rig.book(account);
  const owners = async () => (await rig.relay.store.listPositions('bob')).map((p) => [p.account, p.relayId, p.direction, p.doubt]);
  const reversalOf = (relayId: string, extra: Parameters<typeof alertText>[0] extends infer F ? Partial<F> : never = {}) =>
    alertText({ relayId, prev: 'long', now: 'short', action: 'SELL', ...extra }).replace('qty=1', 'qty=2');

  it('drops the exit of a strategy whose entry was blocked, after the owner has exited', async () => {
    await rig.post(entry('A'));
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    await rig.post(exit('A'));
    expect(book()).toEqual([]);
    expect((await rig.post(exit('B'))).body).toEqual({
      decision: 'dropped',
      signal_type: 'exit',
      reason: 'phantom-exit: B holds no position here',
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
    const reversal = await rig.post(reversalOf('B'));
    expect(reversal.body).toEqual({
      decision: 'blocked',
      signal_type: 'reversal',
      reason: 'not-owner: B holds no position here, its reversal would double the position',
    });
    expect(rig.sim.received).toHaveLength(2);
    expect(book()).toEqual([]);
  });

  it('keeps the owner while its exit is in flight, so another entry cannot slip in', async () => {
    await rig.post(entry('A'));
    rig.advance(10_001); // past A's fill grace: only the exit in flight stands in B's way
    rig.sim.failWebhook({ kind: 'hang', times: 1 });
    const pendingExit = rig.post(exit('A'));
    while (rig.sim.received.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const apiCallsBefore = rig.sim.apiCalls;
    const contested = await rig.post(entry('B'));
    expect(contested.body).toEqual({
      decision: 'blocked',
      signal_type: 'entry',
      reason: 'owner-order-pending: owned by A, an order of this key has not been answered yet',
    });
    expect(rig.sim.apiCalls).toBe(apiCallsBefore); // decided without asking CrossTrade
    expect((await pendingExit).body).toMatchObject({ decision: 'unknown', reason: expect.stringMatching(/^outcome-unknown: upstream-timeout;/) });
    expect((await owners()).map(([account, relayId]) => [account, relayId])).toEqual([['Sim101', 'A']]);
    expect(rig.sim.received).toHaveLength(2);
    expect(book()).toEqual(['Long 1']);
  });

  it('marks a strategy whose entry definitely failed as holding nothing', async () => {
    rig.sim.failWebhook({ kind: 'status', status: 400 });
    expect((await rig.post(entry('A'))).body.decision).toBe('failed');
    rig.sim.failWebhook(null);
    expect((await rig.post(exit('A'))).body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: A holds no position here' });
    expect(rig.sim.received).toHaveLength(1);
    expect(book()).toEqual([]);
  });

  it('refuses an alert that lists one account twice: CrossTrade would place it twice', async () => {
    const answer = await rig.post(entry('A', { account: 'Sim101, sim101' }));
    expect(answer).toMatchObject({
      status: 400,
      body: { decision: 'rejected', reason: 'account "sim101" is listed twice: CrossTrade would place the order twice' },
    });
    expect(rig.sim.received).toHaveLength(0);
    expect(book()).toEqual([]);
  });

  it('refuses a cancel_after outside CrossTrade’s 1-60 minutes', async () => {
    const answer = await rig.post(entry('A', { orderType: 'LIMIT', extra: 'limit_price=1; cancel_after=200000000000' }));
    expect(answer).toMatchObject({ status: 400, body: { decision: 'rejected', reason: 'cancel_after must be a number of minutes from 1 to 60' } });
    expect(rig.sim.received).toHaveLength(0);
    expect(book()).toEqual([]);
  });

  it('never lets an order on an instrument it cannot read bypass arbitration: entries blocked, exits and reversals not sent', async () => {
    const reason = 'instrument-unreadable: the relay cannot read this instrument name, so no CrossTrade check could ever tell its position';
    expect((await rig.post(entry('A', { instrument: 'ES 13-26' }))).body).toEqual({ decision: 'blocked', signal_type: 'entry', reason });
    expect((await rig.post(exit('A', { instrument: 'ES 13-26' }))).body).toEqual({ decision: 'dropped', signal_type: 'exit', reason });
    expect((await rig.post(reversalOf('A', { instrument: 'ES 13-26' }))).body).toEqual({ decision: 'blocked', signal_type: 'reversal', reason });
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.sim.apiCalls).toBe(0);
    expect(book()).toEqual([]);
  });

  it('does not double a position when the owner’s blocked reversal is followed by its exit', async () => {
    await rig.post(entry('A', { account: 'Sim101' }));
    await rig.post(entry('C', { account: 'Sim102' }));
    const reversal = await rig.post(alertText({ relayId: 'A', account: 'Sim101,Sim102', prev: 'long', now: 'short', action: 'SELL' }));
    expect(reversal.body.decision).toBe('blocked');
    // A's strategy now believes it is short on Sim101 and sends the exit of a short, after its fill grace.
    rig.advance(10_001);
    const answer = await rig.post(alertText({ relayId: 'A', account: 'Sim101', prev: 'short', now: 'flat', action: 'BUY' }));
    expect(answer.body).toEqual({
      decision: 'dropped',
      signal_type: 'exit',
      reason: 'position-mismatch: claim-mismatch: A says it was short, the record says long; CrossTrade reports Long 1 ES 03-26',
    });
    expect(rig.sim.received).toHaveLength(2);
    expect(book('Sim101')).toEqual(['Long 1']);
    expect(book('Sim102')).toEqual(['Long 1']);
  });

  it('treats a cleared stale owner as holding nothing: its later reversal is blocked', async () => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // A was stopped out
    rig.advance(10_001);
    expect((await rig.post(entry('B'))).body.reason).toBe('stale-owner-cleared: owned by A, CrossTrade reports flat');
    expect((await rig.post(exit('B'))).body.decision).toBe('forwarded');
    const reversal = await rig.post(reversalOf('A'));
    expect(reversal.body).toEqual({
      decision: 'blocked',
      signal_type: 'reversal',
      reason: 'not-owner: A holds no position here, its reversal would double the position',
    });
    expect(rig.sim.received).toHaveLength(3);
    expect(book()).toEqual([]);
  });
});
