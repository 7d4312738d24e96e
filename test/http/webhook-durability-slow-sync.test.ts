import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/alerts.js';
import { entry, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Issue 9, adversarial: RELAY_DURABILITY=power-cut puts an fsync between the decision and the forward.
// The fill grace (the hold in which a flat reading cannot clear a fresh owner) must count from the
// moment the order leaves, as the configuration promises ("the hold starts when the order is sent"),
// not from the decision: a disk that stalls for the length of the grace would otherwise leave the
// owner's order unprotected against its own fill lag.
describe('a slow sync before the forward', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('does not shorten the owner’s hold: another strategy’s entry inside the shifted hold is blocked; the book never holds long 2', async () => {
    rig = await startTestRig();
    const store = rig.relay.store;
    const realSync = store.sync.bind(store);
    let release = (): void => undefined;
    store.sync = () => new Promise<void>((resolve) => (release = resolve)).then(realSync);
    const first = rig.post(entry('A'));
    await sleep(200);
    // The fsync stalls for 1.5 s, still inside the time the forward fits in (the rig's: 2.5 s - 0.6 s).
    rig.advance(1_500);
    store.sync = realSync;
    // CrossTrade takes A's order, but its fill has not reached the account the API reads yet (fill lag).
    rig.sim.failWebhook({ kind: 'status', status: 200, apply: false, times: 1 });
    release();
    expect((await first).body.decision).toBe('forwarded');
    // 10.5 s after the decision: past a hold counted from the decision, inside one counted from the order.
    rig.advance(9_000);
    const b = await rig.post(entry('B'));
    // A's fill lands.
    const bSent = rig.sim.received.length === 2;
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', bSent ? 2 : 1);
    expect(b.body).toMatchObject({ decision: 'blocked', reason: expect.stringMatching(/^owner-order-pending/) });
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('refuses an order whose sync outlasts the moment the forward still fits in TradingView’s 3 s; the next entry finds the key free', async () => {
    rig = await startTestRig();
    const store = rig.relay.store;
    const realSync = store.sync.bind(store);
    let release = (): void => undefined;
    store.sync = () => new Promise<void>((resolve) => (release = resolve)).then(realSync);
    const first = rig.post(entry('A'));
    await sleep(200);
    rig.advance(11_000);
    store.sync = realSync;
    release();
    expect((await first).body).toMatchObject({ decision: 'failed', reason: expect.stringMatching(/database-sync-too-slow/) });
    expect(rig.sim.received).toHaveLength(0);
    expect((await rig.post(entry('B'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });
});
