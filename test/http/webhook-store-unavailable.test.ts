import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreBusyError, StoreUnavailableError } from '../../src/store/store.js';
import { entry, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Issue 10: a database that cannot be reached (the store's StoreUnavailableError, whatever the
// implementation) never lets an order leave undecided, and never shows a stack or a path.

/** What an implementation wraps its driver's failure in: the driver's words stay in `cause`, out of every answer. */
const unavailable = () =>
  new StoreUnavailableError('the database did not answer in time', {
    cause: Object.assign(new Error('connect ECONNREFUSED postgres://relay:hunter2@10.0.0.5/relay at /srv/relay/data/relay.db'), { code: 'ECONNREFUSED' }),
  });

describe('webhook: the database unavailable', () => {
  let rig: TestRig;
  afterEach(async () => {
    vi.restoreAllMocks();
    await rig.close();
  });

  it('answers an alert it could not decide 503 blocked, sends nothing, records the refusal, and takes the resend', async () => {
    rig = await startTestRig();
    vi.spyOn(rig.relay.store, 'arbitrateAs').mockRejectedValueOnce(unavailable());
    const refused = await rig.post(entry('A'));
    expect(refused).toMatchObject({
      status: 503,
      body: { decision: 'blocked', signal_type: 'entry', reason: 'database unavailable: nothing was decided or forwarded' },
    });
    expect(rig.sim.received).toHaveLength(0);
    await rig.relay.store.flush();
    expect((await rig.relay.store.listLogs({ relayUser: 'bob', limit: 5 })).map((l) => [l.decision, l.reason])).toEqual([
      ['blocked', 'database unavailable: nothing was decided or forwarded'],
    ]);
    // TradingView sends it again after 5 s: a harmless second chance, now decided.
    rig.advance(5000);
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('answers 503 blocked through the error handler when even the user cannot be read, sending nothing', async () => {
    rig = await startTestRig();
    vi.spyOn(rig.relay.store, 'arbitrateAs').mockRejectedValue(unavailable());
    vi.spyOn(rig.relay.store, 'getUser').mockRejectedValue(unavailable());
    const answer = await rig.post(entry('A'));
    expect(answer).toMatchObject({
      status: 503,
      body: { decision: 'blocked', signal_type: null, reason: 'database unavailable: nothing was forwarded, send again' },
    });
    expect(rig.sim.received).toHaveLength(0);
    // The log is written asynchronously: its line may follow the answer by a moment.
    await vi.waitFor(() => expect(rig.logFileText()).toContain('database unavailable: alert not processed'), { timeout: 5000 });
  });

  it('answers a management request 503 with the store’s reason, never a stack, a path or a connection string', async () => {
    rig = await startTestRig();
    vi.spyOn(rig.relay.store, 'listUsers').mockRejectedValue(unavailable());
    const answer = await rig.admin('GET', '/users');
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: 'database unavailable: the database did not answer in time: try again shortly' });
    for (const leak of ['hunter2', 'postgres://', '/srv/relay', 'ECONNREFUSED', '    at ']) expect(answer.text).not.toContain(leak);
  });

  it('answers a management request 503 while another writer holds the database', async () => {
    rig = await startTestRig();
    vi.spyOn(rig.relay.store, 'removeUser').mockRejectedValue(new StoreBusyError());
    const answer = await rig.admin('DELETE', '/users/bob');
    expect(answer).toMatchObject({ status: 503, body: { error: 'database busy: another process holds the write lock: try again shortly' } });
  });

  it('refuses the management API 503, not 401, when the stored admin token cannot be read', async () => {
    rig = await startTestRig({ adminToken: undefined });
    vi.spyOn(rig.relay.store, 'getSetting').mockRejectedValue(unavailable());
    const answer = await rig.admin('GET', '/users', undefined, 'Bearer some-token-that-may-be-right');
    expect(answer).toMatchObject({ status: 503, body: { error: 'database unavailable: the database did not answer in time: try again shortly' } });
  });
});
