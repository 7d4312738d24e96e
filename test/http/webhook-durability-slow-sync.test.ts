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

  it('does not shorten the owner’s hold: another strategy’s entry right after the late order is blocked; the book never holds long 2', async () => {
    rig = await startTestRig();
    const store = rig.relay.store;
    const realSync = store.sync.bind(store);
    let release = (): void => undefined;
    store.sync = () => new Promise<void>((resolve) => (release = resolve)).then(realSync);
    const first = rig.post(entry('A'));
    await sleep(200);
    // The fsync stalls for 11 s (longer than the 10 s fill grace) before A's order leaves.
    rig.advance(11_000);
    store.sync = realSync;
    // CrossTrade takes A's order, but its fill has not reached the account the API reads yet (fill lag).
    rig.sim.failWebhook({ kind: 'status', status: 200, apply: false, times: 1 });
    release();
    expect((await first).body.decision).toBe('forwarded');
    // B's entry a moment later: A's order left 0.1 s ago, its fill is still on its way.
    rig.advance(100);
    const b = await rig.post(entry('B'));
    // A's fill lands.
    const bSent = rig.sim.received.length === 2;
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', bSent ? 2 : 1);
    expect(b.body.decision).toBe('blocked');
    expect(rig.book()).toEqual(['Long 1']);
  });
});
