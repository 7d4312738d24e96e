import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertText, entry, exit, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

// End to end over real HTTP: relay + CrossTrade simulator + a real SQLite file.
describe('webhook: the ownership rules end to end', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  const owners = async () => (await rig.relay.store.listPositions('bob')).map((p) => [p.account, p.instrumentKey, p.relayId, p.direction]);

  it('forwards the first entry, records its owner and sends CrossTrade the alert with the key first', async () => {
    const answer = await rig.post(entry('A'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: nobody owns the position' });
    expect(rig.sim.received.map((r) => r.body)).toEqual([
      `key=${USER_KEY}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY; prev_market_position=flat; market_position=long;`,
    ]);
    expect(rig.sim.received[0]?.contentType).toMatch(/^text\/plain/);
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.sim.apiCalls).toBe(0);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('blocks the owner’s second entry while it holds the position: inside its hold unasked, after it on CrossTrade’s word', async () => {
    await rig.post(entry('A'));
    // A different body (not a repeat of the first): the strategy entering again while the record says it is long.
    const inHold = await rig.post(entry('A', { extra: 'comment=again' }));
    expect(inHold.body.decision).toBe('blocked');
    expect(inHold.body.reason).toMatch(/^owner-order-pending: A already owns this position \(long\); flat readings are not trusted for another (9|10) s$/);
    expect(rig.sim.apiCalls).toBe(0);
    rig.advance(10_001);
    const afterHold = await rig.post(entry('A', { extra: 'comment=once more' }));
    expect(afterHold.body).toEqual({
      decision: 'blocked',
      signal_type: 'entry',
      reason: 'position-mismatch: claim-mismatch: A says it was flat, the record says it holds long; CrossTrade reports Long 1 ES 03-26',
    });
    expect(rig.sim.apiCalls).toBe(1);
    expect(rig.sim.received).toHaveLength(1);
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('forwards the owner’s re-entry after its hold when CrossTrade reads the position closed (a stop)', async () => {
    await rig.post(entry('A'));
    rig.advance(10_001);
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    const answer = await rig.post(entry('A', { extra: 'comment=again' }));
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: A owns the position; reconciled: CrossTrade reports flat' });
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('blocks another strategy’s entry while CrossTrade reports the position open', async () => {
    await rig.post(entry('A'));
    rig.advance(10_001); // past A's fill grace: the entry is checked against CrossTrade
    const answer = await rig.post(entry('B', { action: 'SELL', now: 'short' }));
    expect(answer.body).toEqual({ decision: 'blocked', signal_type: 'entry', reason: 'position-open: owned by A, CrossTrade reports Long 1 ES 03-26' });
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.sim.apiCalls).toBe(1);
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('clears a stale owner when CrossTrade reports flat (closed by a stop) and forwards the entry', async () => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.advance(10_001);
    const answer = await rig.post(entry('B'));
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'stale-owner-cleared: owned by A, CrossTrade reports flat' });
    expect(rig.sim.received).toHaveLength(2);
    expect(await owners()).toEqual([['Sim101', 'ES', 'B', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it.each([
    [{ kind: 'status', status: 408 } as const, 'api-not-connected-408'],
    [{ kind: 'status', status: 429 } as const, 'api-rate-limited-429'],
    [{ kind: 'status', status: 500 } as const, 'api-http-500'],
    [{ kind: 'garbage' } as const, 'api-bad-response'],
    [{ kind: 'hang' } as const, 'api-timeout'],
  ])('blocks a contested entry when the CrossTrade check fails (%o)', async (fault, reason) => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.advance(10_001); // past A's fill grace: only the failed check keeps B out
    rig.sim.failApi(fault);
    const answer = await rig.post(entry('B'));
    expect(answer.body).toEqual({
      decision: 'blocked',
      signal_type: 'entry',
      reason: `position-check-failed: owned by A, CrossTrade check failed (${reason})`,
    });
    expect(answer.ms).toBeLessThan(3000);
    expect(rig.sim.received).toHaveLength(1);
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.book()).toEqual([]);
    // and the relay keeps serving: once the API answers, B's next entry (past the duplicate window) is decided as usual
    rig.sim.failApi(null);
    rig.advance(30_001);
    const retried = await rig.post(entry('B'));
    expect(retried.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'stale-owner-cleared: owned by A, CrossTrade reports flat' });
    expect(await owners()).toEqual([['Sim101', 'ES', 'B', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('forwards the owner’s exit and clears the ownership', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(exit('A'));
    expect(answer.body).toEqual({
      decision: 'forwarded',
      signal_type: 'exit',
      reason: 'exit: A owns the position; reconciled: CrossTrade reports Long 1 ES 03-26',
    });
    expect(rig.sim.apiCalls).toBe(1); // the owner's exit is confirmed against the account
    expect(await owners()).toEqual([]);
    expect(rig.book()).toEqual([]);
  });

  it('drops the owner’s exit when CrossTrade reads its position closed outside the relay (a stop): no orphan', async () => {
    await rig.post(entry('A'));
    rig.advance(10_001); // past A's fill grace: a flat reading now means the position is gone
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    const answer = await rig.post(exit('A'));
    expect(answer.body.decision).toBe('dropped');
    expect(answer.body.reason).toMatch(/^position-mismatch: .*; CrossTrade reports flat$/);
    expect(rig.sim.received).toHaveLength(1);
    expect(await owners()).toEqual([]);
    expect(rig.book()).toEqual([]);
  });

  it('drops a phantom exit from another strategy and forwards nothing', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(exit('B'));
    expect(answer.body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: owned by A' });
    expect(rig.sim.received).toHaveLength(1);
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('drops an exit nobody owns when CrossTrade reads the account flat: it would open an orphan', async () => {
    const answer = await rig.post(exit('B'));
    expect(answer.body.decision).toBe('dropped');
    expect(answer.body.signal_type).toBe('exit');
    expect(answer.body.reason).toMatch(/^position-mismatch: nobody-owns: .*; CrossTrade reports flat$/);
    expect(rig.sim.apiCalls).toBe(1);
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual([]);
  });

  it('forwards an exit nobody owns when CrossTrade reads the position it closes (opened before the relay)', async () => {
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 1);
    const answer = await rig.post(exit('B'));
    expect(answer.body).toEqual({
      decision: 'forwarded',
      signal_type: 'exit',
      reason: 'exit: nobody owns the position; reconciled: CrossTrade reports Long 1 ES 03-26',
    });
    expect(rig.sim.received).toHaveLength(1);
    expect(await owners()).toEqual([]);
    expect(rig.book()).toEqual([]);
  });

  it('drops an exit nobody owns when CrossTrade reads the opposite direction', async () => {
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Short', 1);
    const answer = await rig.post(exit('B'));
    expect(answer.body.decision).toBe('dropped');
    expect(answer.body.reason).toMatch(/^position-mismatch: nobody-owns: .*; CrossTrade reports Short 1 ES 03-26$/);
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual(['Short 1']);
  });

  it('forwards the owner’s reversal and updates the direction', async () => {
    await rig.post(entry('A'));
    const reversal = alertText({ relayId: 'A', prev: 'long', now: 'short', action: 'SELL' }).replace('qty=1', 'qty=2');
    const answer = await rig.post(reversal);
    expect(answer.body).toEqual({
      decision: 'forwarded',
      signal_type: 'reversal',
      reason: 'reversal: A owns the position; reconciled: CrossTrade reports Long 1 ES 03-26',
    });
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'short']]);
    expect(rig.book()).toEqual(['Short 1']);
  });

  it('always blocks another strategy’s reversal while one owns the position, without asking CrossTrade', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(alertText({ relayId: 'B', prev: 'long', now: 'short', action: 'SELL' }).replace('qty=1', 'qty=2'));
    expect(answer.body).toEqual({
      decision: 'blocked',
      signal_type: 'reversal',
      reason: 'not-owner: owned by A, a reversal would close its position and open a doubled one',
    });
    expect(rig.sim.apiCalls).toBe(0);
    expect(rig.sim.received).toHaveLength(1);
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('forwards the owner’s add and partial exit, blocks another strategy’s add and drops its partial exit', async () => {
    await rig.post(entry('A'));
    expect((await rig.post(alertText({ relayId: 'A', prev: 'long', now: 'long', action: 'BUY' }))).body).toMatchObject({
      decision: 'forwarded',
      signal_type: 'add',
    });
    expect((await rig.post(alertText({ relayId: 'A', prev: 'long', now: 'long', action: 'SELL' }))).body).toMatchObject({
      decision: 'forwarded',
      signal_type: 'partial_exit',
    });
    expect((await rig.post(alertText({ relayId: 'B', prev: 'long', now: 'long', action: 'BUY' }))).body).toEqual({
      decision: 'blocked',
      signal_type: 'add',
      reason: 'not-owner: owned by A, an add would stack exposure',
    });
    expect((await rig.post(alertText({ relayId: 'B', prev: 'long', now: 'long', action: 'SELL' }))).body).toMatchObject({
      decision: 'dropped',
      signal_type: 'partial_exit',
    });
    expect(rig.sim.received).toHaveLength(3);
    expect(await owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('blocks an add from a strategy when nobody owns the position', async () => {
    const answer = await rig.post(alertText({ relayId: 'B', prev: 'long', now: 'long', action: 'BUY' }));
    expect(answer.body.decision).toBe('blocked');
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual([]);
  });

  it('forwards FLATTEN (no position fields) key first whoever owns, and releases the owner: it holds nothing', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post('relay_user=bob;relay_id=ops;command=FLATTEN;account=Sim101;instrument=ES 03-26;');
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'flatten', reason: 'flatten: closes the position whoever owns it' });
    expect(rig.sim.received.map((r) => r.body)[1]).toBe(`key=${USER_KEY}; command=FLATTEN;account=Sim101;instrument=ES 03-26;`);
    expect(await owners()).toEqual([]);
    expect(rig.book()).toEqual([]);
    // A's strategy never saw the close: its exit must not open an orphaned short
    const late = await rig.post(exit('A'));
    expect(late.body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: A holds no position here' });
    expect(rig.sim.received).toHaveLength(2);
    expect(rig.book()).toEqual([]);
  });

  it('passes a command that changes no position (CANCEL) through unchanged, key first', async () => {
    const answer = await rig.post('relay_user=bob;relay_id=ops;command=CANCEL;account=Sim101;instrument=ES 03-26;');
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'passthrough', reason: 'passthrough: no effect on a position' });
    expect(rig.sim.received.map((r) => r.body)).toEqual([`key=${USER_KEY}; command=CANCEL;account=Sim101;instrument=ES 03-26;`]);
    expect(rig.sim.apiCalls).toBe(0);
    expect(rig.book()).toEqual([]);
  });

  it('treats every name of one contract as one key, and keeps ES apart from MES', async () => {
    await rig.post(entry('A', { instrument: 'ESH2026' }));
    expect((await rig.post(entry('B', { instrument: 'ES 03-26' }))).body.decision).toBe('blocked');
    expect((await rig.post(entry('B', { instrument: 'ESH6' }))).body.decision).toBe('blocked');
    expect((await rig.post(entry('B', { instrument: 'MESH26' }))).body.decision).toBe('forwarded');
    expect(await owners()).toEqual([
      ['Sim101', 'ES', 'A', 'long'],
      ['Sim101', 'MES', 'B', 'long'],
    ]);
    expect(rig.sim.positions('Sim101').map((p) => `${p.instrument} ${p.marketPosition} ${p.quantity}`)).toEqual(['ES 03-26 Long 1', 'MES 03-26 Long 1']);
  });

  it('keys ownership per account, accounts compared case-insensitively', async () => {
    await rig.post(entry('A', { account: 'Sim101' }));
    expect((await rig.post(entry('B', { account: 'SIM101' }))).body.decision).toBe('blocked');
    expect((await rig.post(entry('B', { account: 'Sim102' }))).body.decision).toBe('forwarded');
    expect(rig.book('Sim101')).toEqual(['Long 1']);
    expect(rig.book('Sim102')).toEqual(['Long 1']);
  });

  it('writes every decision to the signal log with its reason, without the key', async () => {
    await rig.post(entry('A'));
    await rig.post(exit('B'));
    const logs = await rig.relay.store.listLogs({ relayUser: 'bob', limit: 10 });
    expect(logs.map((l) => [l.relayId, l.signalType, l.decision, l.reason])).toEqual([
      ['B', 'exit', 'dropped', 'phantom-exit: owned by A'],
      ['A', 'entry', 'forwarded', 'entry: nobody owns the position'],
    ]);
    expect(logs[1]).toMatchObject({ upstreamStatus: 200, account: 'Sim101', instrument: 'ES 03-26' });
    expect(logs[1]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(logs)).not.toContain(USER_KEY);
    expect(rig.book()).toEqual(['Long 1']);
  });
});

describe('webhook: the fill-lag guard and resting orders', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('blocks a second strategy inside the fill grace without asking CrossTrade, even if it reads flat', async () => {
    rig = await startTestRig(); // the real fill grace: 10 s
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // the owner's order has not filled yet
    const answer = await rig.post(entry('B'));
    expect(answer.body.decision).toBe('blocked');
    expect(answer.body.reason).toMatch(/^owner-order-pending: owned by A, flat readings are not trusted for another (9|10) s$/);
    expect(rig.sim.apiCalls).toBe(0);
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.book()).toEqual([]);
  });

  it('holds a resting LIMIT entry past the fill grace, so a flat reading cannot let a second strategy in', async () => {
    rig = await startTestRig({ restingGraceSeconds: 3600 });
    await rig.post(entry('A', { orderType: 'LIMIT', extra: 'limit_price=5000' }));
    expect(rig.book()).toEqual([]); // resting, the API reads flat
    expect(rig.sim.workingOrders('Sim101')).toHaveLength(1);
    rig.advance(10_001); // past the fill grace, inside the resting grace
    const answer = await rig.post(entry('B'));
    expect(answer.body.decision).toBe('blocked');
    expect(answer.body.reason).toMatch(/^owner-order-pending: owned by A/);
    expect(rig.sim.apiCalls).toBe(0);
    rig.sim.fillWorkingOrders('Sim101');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('uses a resting entry’s cancel_after (plus the fill grace) as its hold', async () => {
    rig = await startTestRig({ restingGraceSeconds: 3600 });
    await rig.post(entry('A', { orderType: 'LIMIT', extra: 'limit_price=5000; cancel_after=5' }));
    const [position] = await rig.relay.store.listPositions('bob');
    // From the moment the order left (claimedAt is the decision; the sync before the send comes between).
    const hold = position!.holdUntil - position!.claimedAt;
    expect(hold).toBeGreaterThanOrEqual(5 * 60_000 + rig.config.fillGraceSeconds * 1000);
    expect(hold).toBeLessThan(5 * 60_000 + rig.config.fillGraceSeconds * 1000 + 1000);
    expect(rig.sim.workingOrders('Sim101')).toHaveLength(1);
    expect(rig.book()).toEqual([]);
  });
});

describe('webhook: multi-account alerts (account=A,B)', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('records the owner on every listed account and forwards once', async () => {
    const answer = await rig.post(entry('A', { account: 'Sim101,Sim102' }));
    expect(answer.body.decision).toBe('forwarded');
    expect(rig.sim.received).toHaveLength(1);
    expect((await rig.relay.store.listPositions('bob')).map((p) => [p.account, p.relayId])).toEqual([
      ['Sim101', 'A'],
      ['Sim102', 'A'],
    ]);
    expect(rig.book('Sim101')).toEqual(['Long 1']);
    expect(rig.book('Sim102')).toEqual(['Long 1']);
  });

  it('forwards nothing when one listed account is owned by another strategy (inside its hold, then with an open position)', async () => {
    await rig.post(entry('A', { account: 'Sim102' }));
    const inHold = await rig.post(entry('B', { account: 'Sim101,Sim102' }));
    expect(inHold.body.decision).toBe('blocked');
    expect(inHold.body.reason).toMatch(/^Sim102: owner-order-pending: owned by A, /);
    rig.advance(10_001);
    const answer = await rig.post(entry('B', { account: 'Sim101,Sim102', extra: 'comment=later' }));
    expect(answer.body).toEqual({ decision: 'blocked', signal_type: 'entry', reason: 'Sim102: position-open: owned by A, CrossTrade reports Long 1 ES 03-26' });
    expect(rig.sim.received).toHaveLength(1);
    expect((await rig.relay.store.listPositions('bob')).map((p) => [p.account, p.relayId])).toEqual([['Sim102', 'A']]);
    expect(rig.book('Sim101')).toEqual([]);
    expect(rig.book('Sim102')).toEqual(['Long 1']);
  });

  it('checks every contested account with CrossTrade before clearing stale owners', async () => {
    await rig.post(entry('A', { account: 'Sim101' }));
    await rig.post(entry('C', { account: 'Sim102' }));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.sim.setPosition('Sim102', 'ES 03-26', 'Flat', 0);
    rig.advance(10_001);
    const answer = await rig.post(entry('B', { account: 'Sim101,Sim102' }));
    expect(answer.body.decision).toBe('forwarded');
    expect(rig.sim.apiCalls).toBe(2);
    expect((await rig.relay.store.listPositions('bob')).map((p) => p.relayId)).toEqual(['B', 'B']);
    expect(rig.book('Sim101')).toEqual(['Long 1']);
    expect(rig.book('Sim102')).toEqual(['Long 1']);
  });
});
