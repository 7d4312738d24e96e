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

  const owners = () => rig.relay.store.listPositions('bob').map((p) => [p.account, p.instrumentKey, p.relayId, p.direction]);

  it('forwards the first entry, records its owner and sends CrossTrade the alert with the key first', async () => {
    const answer = await rig.post(entry('A'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: nobody owns the position' });
    expect(rig.sim.received.map((r) => r.body)).toEqual([
      `key=${USER_KEY}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY; prev_market_position=flat; market_position=long;`,
    ]);
    expect(rig.sim.received[0]?.contentType).toMatch(/^text\/plain/);
    expect(owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    expect(rig.sim.apiCalls).toBe(0);
  });

  it('forwards a second entry of the owner', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(entry('A'));
    expect(answer.body.decision).toBe('forwarded');
    expect(rig.sim.received).toHaveLength(2);
  });

  it('blocks another strategy’s entry while CrossTrade reports the position open', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(entry('B', { action: 'SELL', now: 'short' }));
    expect(answer.body).toEqual({ decision: 'blocked', signal_type: 'entry', reason: 'position-open: owned by A, CrossTrade reports Long 1 ES 03-26' });
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.sim.apiCalls).toBe(1);
    expect(owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
  });

  it('clears a stale owner when CrossTrade reports flat (closed by a stop) and forwards the entry', async () => {
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    const answer = await rig.post(entry('B'));
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'stale-owner-cleared: owned by A, CrossTrade reports flat' });
    expect(rig.sim.received).toHaveLength(2);
    expect(owners()).toEqual([['Sim101', 'ES', 'B', 'long']]);
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
    rig.sim.failApi(fault);
    const answer = await rig.post(entry('B'));
    expect(answer.body).toEqual({
      decision: 'blocked',
      signal_type: 'entry',
      reason: `position-check-failed: owned by A, CrossTrade check failed (${reason})`,
    });
    expect(answer.ms).toBeLessThan(3000);
    expect(rig.sim.received).toHaveLength(1);
    expect(owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
    // and the relay keeps serving: the next alert is decided as usual
    rig.sim.failApi(null);
    expect((await rig.post(exit('A'))).body.decision).toBe('forwarded');
  });

  it('forwards the owner’s exit and clears the ownership', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(exit('A'));
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'exit', reason: 'exit: A owns the position' });
    expect(owners()).toEqual([]);
    expect(rig.sim.positions('Sim101')).toEqual([]);
  });

  it('drops a phantom exit from another strategy and forwards nothing', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(exit('B'));
    expect(answer.body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: owned by A' });
    expect(rig.sim.received).toHaveLength(1);
    expect(owners()).toEqual([['Sim101', 'ES', 'A', 'long']]);
  });

  it('forwards an exit when nobody owns the position', async () => {
    const answer = await rig.post(exit('B'));
    expect(answer.body.decision).toBe('forwarded');
    expect(rig.sim.received).toHaveLength(1);
  });

  it('forwards the owner’s reversal and updates the direction', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(alertText({ relayId: 'A', prev: 'long', now: 'short', action: 'SELL' }));
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'reversal', reason: 'reversal: A owns the position' });
    expect(owners()).toEqual([['Sim101', 'ES', 'A', 'short']]);
  });

  it('treats another strategy’s reversal like an entry: blocked while the position is open', async () => {
    await rig.post(entry('A'));
    const answer = await rig.post(alertText({ relayId: 'B', prev: 'long', now: 'short', action: 'SELL' }));
    expect(answer.body.decision).toBe('blocked');
    expect(answer.body.signal_type).toBe('reversal');
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
  });

  it('blocks an add from a strategy when nobody owns the position', async () => {
    const answer = await rig.post(alertText({ relayId: 'B', prev: 'long', now: 'long', action: 'BUY' }));
    expect(answer.body.decision).toBe('blocked');
    expect(rig.sim.received).toHaveLength(0);
  });

  it('passes an alert without market position fields through unchanged, key first', async () => {
    const answer = await rig.post('relay_user=bob;relay_id=ops;command=FLATTEN;account=Sim101;instrument=ES 03-26;');
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'passthrough', reason: 'passthrough: no market position fields' });
    expect(rig.sim.received.map((r) => r.body)).toEqual([`key=${USER_KEY}; command=FLATTEN;account=Sim101;instrument=ES 03-26;`]);
  });

  it('treats every name of one contract as one key, and keeps ES apart from MES', async () => {
    await rig.post(entry('A', { instrument: 'ESH2026' }));
    expect((await rig.post(entry('B', { instrument: 'ES 03-26' }))).body.decision).toBe('blocked');
    expect((await rig.post(entry('B', { instrument: 'ESH6' }))).body.decision).toBe('blocked');
    expect((await rig.post(entry('B', { instrument: 'MESH26' }))).body.decision).toBe('forwarded');
    expect(owners()).toEqual([
      ['Sim101', 'ES', 'A', 'long'],
      ['Sim101', 'MES', 'B', 'long'],
    ]);
  });

  it('keys ownership per account, accounts compared case-insensitively', async () => {
    await rig.post(entry('A', { account: 'Sim101' }));
    expect((await rig.post(entry('B', { account: 'SIM101' }))).body.decision).toBe('blocked');
    expect((await rig.post(entry('B', { account: 'Sim102' }))).body.decision).toBe('forwarded');
  });

  it('writes every decision to the signal log with its reason, without the key', async () => {
    await rig.post(entry('A'));
    await rig.post(exit('B'));
    const logs = rig.relay.store.listLogs({ relayUser: 'bob', limit: 10 });
    expect(logs.map((l) => [l.relayId, l.signalType, l.decision, l.reason])).toEqual([
      ['B', 'exit', 'dropped', 'phantom-exit: owned by A'],
      ['A', 'entry', 'forwarded', 'entry: nobody owns the position'],
    ]);
    expect(logs[1]).toMatchObject({ upstreamStatus: 200, account: 'Sim101', instrument: 'ES 03-26' });
    expect(logs[1]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(logs)).not.toContain(USER_KEY);
  });
});

describe('webhook: the fill-lag guard and resting orders', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('blocks a second strategy inside the fill grace without asking CrossTrade, even if it reads flat', async () => {
    rig = await startTestRig({ fillGraceSeconds: 10 });
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // the owner's order has not filled yet
    const answer = await rig.post(entry('B'));
    expect(answer.body.decision).toBe('blocked');
    expect(answer.body.reason).toMatch(/^owner-order-pending: owned by A, flat readings are not trusted for another (9|10) s$/);
    expect(rig.sim.apiCalls).toBe(0);
    expect(rig.sim.received).toHaveLength(1);
  });

  it('holds a resting LIMIT entry past the fill grace, so a flat reading cannot let a second strategy in', async () => {
    rig = await startTestRig({ fillGraceSeconds: 0, restingGraceSeconds: 3600 });
    await rig.post(entry('A', { orderType: 'LIMIT', extra: 'limit_price=5000' }));
    expect(rig.sim.positions('Sim101')).toEqual([]); // resting, the API reads flat
    const answer = await rig.post(entry('B'));
    expect(answer.body.decision).toBe('blocked');
    expect(answer.body.reason).toMatch(/^owner-order-pending: owned by A/);
    expect(rig.sim.apiCalls).toBe(0);
  });

  it('uses a resting entry’s cancel_after as its hold', async () => {
    rig = await startTestRig({ fillGraceSeconds: 0, restingGraceSeconds: 3600 });
    await rig.post(entry('A', { orderType: 'LIMIT', extra: 'limit_price=5000; cancel_after=5' }));
    const [position] = rig.relay.store.listPositions('bob');
    expect(position!.holdUntil - position!.claimedAt).toBe(5 * 60_000);
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
    expect(rig.relay.store.listPositions('bob').map((p) => [p.account, p.relayId])).toEqual([
      ['Sim101', 'A'],
      ['Sim102', 'A'],
    ]);
  });

  it('forwards nothing when one listed account is owned by another strategy with an open position', async () => {
    await rig.post(entry('A', { account: 'Sim102' }));
    const answer = await rig.post(entry('B', { account: 'Sim101,Sim102' }));
    expect(answer.body).toEqual({ decision: 'blocked', signal_type: 'entry', reason: 'Sim102: position-open: owned by A, CrossTrade reports Long 1 ES 03-26' });
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.relay.store.listPositions('bob').map((p) => [p.account, p.relayId])).toEqual([['Sim102', 'A']]);
  });

  it('checks every contested account with CrossTrade before clearing stale owners', async () => {
    await rig.post(entry('A', { account: 'Sim101' }));
    await rig.post(entry('C', { account: 'Sim102' }));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.sim.setPosition('Sim102', 'ES 03-26', 'Flat', 0);
    const answer = await rig.post(entry('B', { account: 'Sim101,Sim102' }));
    expect(answer.body.decision).toBe('forwarded');
    expect(rig.sim.apiCalls).toBe(2);
    expect(rig.relay.store.listPositions('bob').map((p) => p.relayId)).toEqual(['B', 'B']);
  });
});
