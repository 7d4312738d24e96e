import { afterEach, describe, expect, it } from 'vitest';
import { command, order } from '../helpers/alerts.js';
import { entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Sequences found by trying to break issue 7's guarantees; each is judged by the simulator's book.
const PAST_GRACE_MS = 10_001;

describe('sequences that tried to double or orphan a position', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('a stop right after the entry, then the owner’s reversal inside the grace: blocked, never short 2', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(3_000);
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    const reversal = await rig.post(order('A', 'long', 'short', 'SELL', 2));
    expect(reversal.body).toMatchObject({ decision: 'blocked', reason: expect.stringMatching(/^position-check-inconclusive: /) });
    expect(rig.book()).toEqual([]);
  });

  it('an exit sent inside the grace on a flat reading leaves the key in doubt: the next entry is checked, never stacked on an orphan', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(2_000);
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    expect((await rig.post(exit('A'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Short 1']); // the gap require_market_position closes at NinjaTrader (README)
    const short = await rig.post(order('B', 'flat', 'short', 'SELL', 1));
    expect(short.body.decision).toBe('blocked');
    expect(rig.book()).toEqual(['Short 1']);
  });

  it('a strategy whose own size disagrees with the account is out of step: its add is blocked', async () => {
    rig = await startTestRig();
    await rig.post(order('A', 'flat', 'long', 'BUY', 2, 'market_position_size=2; prev_market_position_size=0'));
    rig.advance(PAST_GRACE_MS);
    rig.sim.failWebhook({ kind: 'status', status: 429, times: 1 });
    expect((await rig.post(order('A', 'long', 'long', 'SELL', 1, 'market_position_size=1; prev_market_position_size=2'))).body.decision).toBe('failed');
    // A believes long 1; the account holds long 2.
    const add = await rig.post(order('A', 'long', 'long', 'BUY', 1, 'market_position_size=2; prev_market_position_size=1'));
    expect(add.body.decision).toBe('blocked');
    expect(rig.book()).toEqual(['Long 2']);
  });

  it('a cached reading from before a close outside the relay is not reused for the owner’s reversal', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked'); // reads Long 1, cached for 1 s
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.advance(200);
    expect((await rig.post(order('A', 'long', 'short', 'SELL', 2))).body.decision).toBe('blocked');
    expect(rig.book()).toEqual([]);
  });

  it('right after the owner’s exit is taken, a nobody-owns exit or reversal is not read against the closing position', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    // CrossTrade takes the exit; it fills later (the account still shows the long).
    rig.sim.failWebhook({ kind: 'status', status: 200, times: 1 });
    expect((await rig.post(exit('A'))).body.decision).toBe('forwarded');
    expect((await rig.post(exit('W'))).body).toMatchObject({ decision: 'dropped', reason: expect.stringMatching(/^exit-settling: /) });
    expect((await rig.post(order('V', 'long', 'short', 'SELL', 2))).body.decision).toBe('blocked');
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // the exit fills
    expect(rig.book()).toEqual([]);
    // An entry needs no reading and is not held up.
    expect((await rig.post(entry('B'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('a CLOSEPOSITION while the owner’s LIMIT exit works: no entry is let in on the flat reading, the exit may still fill', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    await rig.post(exit('A', { orderType: 'LIMIT', extra: 'limit_price=1010' }));
    expect((await rig.post(command('T', 'command=CLOSEPOSITION'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
    rig.advance(PAST_GRACE_MS);
    expect((await rig.post(order('B', 'flat', 'short', 'SELL', 1))).body).toMatchObject({
      decision: 'blocked',
      reason: expect.stringMatching(/^owner-order-pending: owned by A/),
    });
    expect((await rig.post(entry('A', { extra: 'comment=again' }))).body.decision).toBe('blocked');
    rig.sim.fillWorkingOrders('Sim101');
    expect(rig.book()).toEqual(['Short 1']); // the LIMIT exit the trader must cancel in NinjaTrader; nothing stacked on it
  });

  it('an exit with delay= has not executed yet: no entry goes in before it does', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    rig.sim.failWebhook({ kind: 'status', status: 200, times: 1 }); // taken, executes 15 s later
    expect((await rig.post(exit('A', { extra: 'delay=15' }))).body.decision).toBe('forwarded');
    rig.advance(1_000);
    expect((await rig.post(order('B', 'flat', 'short', 'SELL', 1))).body).toMatchObject({
      decision: 'blocked',
      reason: expect.stringMatching(/^exit-settling: /),
    });
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('CrossTrade’s delay= extends the owner’s hold: no stale-owner release before the delayed order executes', async () => {
    rig = await startTestRig();
    rig.sim.failWebhook({ kind: 'status', status: 200, times: 1 }); // taken, executes 30 s later
    expect((await rig.post(entry('A', { extra: 'delay=30' }))).body.decision).toBe('forwarded');
    rig.advance(PAST_GRACE_MS + 1_000);
    expect((await rig.post(entry('B'))).body).toMatchObject({ decision: 'blocked', reason: expect.stringMatching(/^owner-order-pending: /) });
    expect(rig.sim.received.filter((r) => r.status === 200)).toHaveLength(1);
  });
});
