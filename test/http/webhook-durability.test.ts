import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/alerts.js';
import { entry, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Issue 9, "a decision that survives a power cut": the decision is on disk (the store's sync)
// before the order leaves, and an order whose decision could not be made durable is not sent.
describe('the decision is on disk before the order leaves', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('waits for the sync before forwarding: nothing reaches CrossTrade until it is done', async () => {
    rig = await startTestRig();
    const store = rig.relay.store;
    const realSync = store.sync.bind(store);
    let release = (): void => undefined;
    store.sync = () => new Promise<void>((resolve) => (release = resolve)).then(realSync);
    const answer = rig.post(entry('A'));
    await sleep(300);
    expect(rig.sim.received).toHaveLength(0);
    release();
    expect((await answer).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('does not send an order whose decision could not be synced; the next alert finds the key as before', async () => {
    rig = await startTestRig();
    const store = rig.relay.store;
    const realSync = store.sync.bind(store);
    store.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const failed = await rig.post(entry('A'));
    expect(failed.body).toMatchObject({ decision: 'failed', reason: expect.stringMatching(/database-sync-failed/) });
    expect(rig.sim.received).toHaveLength(0);
    store.sync = realSync;
    // B is not blocked by an owner that never sent anything.
    expect((await rig.post(entry('B'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });
});
