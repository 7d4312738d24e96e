import { afterEach, describe, expect, it } from 'vitest';
import { order, sleep } from '../helpers/alerts.js';
import { entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Issue 7, "The owner's own alerts": the record alone must not speak for an order whose outcome is
// unknown or still in flight, nor for an alert that starts from another position than recorded.
const PAST_GRACE_MS = 10_001;

describe("the owner's own alerts", () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it.each([
    ['never reached NinjaTrader', false, ['Long 1']],
    ['reached NinjaTrader', true, ['Long 1']],
  ])('case 4: an exit that hangs (it %s), then the strategy enters again: never long 2', async (_what, applied, book) => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(2_000);
    rig.sim.failWebhook({ kind: 'hang', apply: applied, times: 1 });
    expect((await rig.post(exit('A'))).body.decision).toBe('unknown');
    // Inside the entry's fill grace: blocked without a check.
    const early = await rig.post(entry('A', { extra: 'comment=again' }));
    expect(early.body).toMatchObject({ decision: 'blocked', reason: expect.stringMatching(/^owner-order-pending: A already owns this position/) });
    rig.advance(PAST_GRACE_MS);
    const late = await rig.post(entry('A', { extra: 'comment=later' }));
    expect(late.body.decision).toBe(applied ? 'forwarded' : 'blocked');
    if (!applied)
      expect(late.body.reason).toMatch(
        /^position-mismatch: claim-mismatch: A says it was flat, the record says it holds long; CrossTrade reports Long 1 ES 03-26/,
      );
    expect(rig.book()).toEqual(book);
  });

  it('case 5: an exit sent while its entry is in flight waits for the entry; the entry is refused, the exit is not sent', async () => {
    rig = await startTestRig({ forwardTimeoutMs: 1_200 });
    rig.sim.failWebhook({ kind: 'status', status: 400, delayMs: 800, times: 1 });
    const pendingEntry = rig.post(entry('A'));
    await sleep(200);
    const x = await rig.post(exit('A'));
    expect((await pendingEntry).body.decision).toBe('failed');
    expect(x.body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: A holds no position here' });
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.book()).toEqual([]);
  });

  it('case 5: an exit sent while its entry is in flight is sent once the entry is taken', async () => {
    rig = await startTestRig({ forwardTimeoutMs: 1_200 });
    rig.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 800, times: 1 });
    const pendingEntry = rig.post(entry('A'));
    await sleep(200);
    const x = await rig.post(exit('A'));
    expect((await pendingEntry).body.decision).toBe('forwarded');
    expect(x.body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
  });

  it('case 5: when the entry is still unanswered at the deadline, the exit is not sent on its claim', async () => {
    rig = await startTestRig({ forwardTimeoutMs: 2_000, apiTimeoutMs: 400 });
    rig.sim.failWebhook({ kind: 'status', status: 400, delayMs: 1_900, times: 1 });
    const pendingEntry = rig.post(entry('A'));
    await sleep(100);
    const x = await rig.post(exit('A'));
    expect(x.body).toMatchObject({ decision: 'dropped', reason: expect.stringMatching(/^order-in-flight: /) });
    await pendingEntry;
    expect(rig.book()).toEqual([]);
  });

  it('another strategy refused while the owner’s entry is in flight does not void that entry’s outcome', async () => {
    rig = await startTestRig({ forwardTimeoutMs: 1_200 });
    rig.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 300, times: 1 });
    const pendingEntry = rig.post(entry('A'));
    await sleep(100);
    expect((await rig.post(exit('B'))).body.decision).toBe('dropped');
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    expect((await pendingEntry).body.decision).toBe('forwarded');
    expect((await rig.relay.store.listPositions('bob')).map((p) => [p.relayId, p.doubt])).toEqual([['A', null]]);
    rig.advance(PAST_GRACE_MS);
    expect((await rig.post(exit('A'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
  });

  it('case 6: an add and an exit that start from the direction the failed reversal would have made are refused', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(2_000);
    rig.sim.failWebhook({ kind: 'status', status: 429, times: 1 });
    expect((await rig.post(order('A', 'long', 'short', 'SELL', 2))).body.decision).toBe('failed');
    // A believes short 1; the book is long 1. Inside A's fill grace no reading can settle it; after it, the account does.
    const early = await rig.post(order('A', 'short', 'short', 'SELL', 1, 'comment=early'));
    expect(early.body).toMatchObject({
      decision: 'blocked',
      signal_type: 'add',
      reason: expect.stringMatching(/^position-check-inconclusive: claim-mismatch: /),
    });
    rig.advance(PAST_GRACE_MS);
    const add = await rig.post(order('A', 'short', 'short', 'SELL', 1));
    expect(add.body).toMatchObject({
      decision: 'blocked',
      signal_type: 'add',
      reason: expect.stringMatching(/^position-mismatch: claim-mismatch: A says it was short, the record says long/),
    });
    const x = await rig.post(order('A', 'short', 'flat', 'BUY', 2));
    expect(x.body).toMatchObject({ decision: 'dropped', signal_type: 'exit' });
    expect(rig.book()).toEqual(['Long 1']);
    // Never a position nobody owns: the long 1 is still A's.
    expect((await rig.relay.store.listPositions('bob')).map((p) => `${p.relayId} ${p.direction}`)).toEqual(['A long']);
  });

  it('case 6: a partial exit that starts from the other direction is refused too', async () => {
    rig = await startTestRig();
    await rig.post(order('A', 'flat', 'long', 'BUY', 2));
    rig.advance(2_000);
    rig.advance(PAST_GRACE_MS);
    const partial = await rig.post(order('A', 'short', 'short', 'BUY', 1));
    expect(partial.body).toMatchObject({ decision: 'dropped', signal_type: 'partial_exit', reason: expect.stringMatching(/^position-mismatch: /) });
    expect(rig.book()).toEqual(['Long 2']);
  });

  it('case 7: a LIMIT exit does not release ownership until CrossTrade reads flat; another entry meanwhile is blocked', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    const limitExit = await rig.post(exit('A', { orderType: 'LIMIT', extra: 'limit_price=1010' }));
    expect(limitExit.body.decision).toBe('forwarded');
    expect(rig.sim.workingOrders('Sim101')).toHaveLength(1);
    expect((await rig.relay.store.listPositions('bob')).map((p) => [p.relayId, p.doubt])).toEqual([['A', 'working-exit']]);
    const contested = await rig.post(entry('B'));
    expect(contested.body).toMatchObject({ decision: 'blocked', reason: expect.stringMatching(/^position-open: owned by A/) });
    expect(rig.book()).toEqual(['Long 1']);
    rig.sim.fillWorkingOrders('Sim101');
    expect(rig.book()).toEqual([]);
    rig.advance(2_000);
    expect((await rig.post(entry('B', { extra: 'comment=again' }))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 7: while the owner’s LIMIT exit works, its market exit is not sent too (it would close the position twice)', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    await rig.post(exit('A', { orderType: 'LIMIT', extra: 'limit_price=1010' }));
    rig.advance(20_000);
    expect((await rig.post(exit('A', { extra: 'comment=market' }))).body).toMatchObject({
      decision: 'dropped',
      reason: expect.stringMatching(/^working-exit: /),
    });
    rig.sim.fillWorkingOrders('Sim101');
    expect(rig.book()).toEqual([]);
  });

  it('case 7: a STOP exit resting while the owner enters again: the entry is checked and blocked, never long 2', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    await rig.post(exit('A', { orderType: 'STOP', extra: 'stop_price=990' }));
    rig.advance(1_000);
    expect((await rig.post(entry('A', { extra: 'comment=again' }))).body.decision).toBe('blocked');
    expect(rig.book()).toEqual(['Long 1']);
  });
});
