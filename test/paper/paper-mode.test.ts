import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPaperBook } from '../../src/paper/load-paper-book.js';
import { accountGroupOf } from '../../src/store/account-group.js';
import { entry, exit, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';

const PAPER_KEY = 'paper-key-of-paula-0001';

/** An alert of bob's test shape, sent as paper user paula. */
const asPaula = (alert: string) => alert.replace('relay_user=bob', 'relay_user=paula');

describe('paper mode over HTTP', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  /** paula's paper book, as `Long 1` lines. */
  async function paperBook(key = PAPER_KEY): Promise<string[]> {
    const stored = await rig.relay.store.getPaperBook(accountGroupOf(key, true));
    return loadPaperBook(stored, rig.now)
      .positions('Sim101')
      .map((p) => `${p.marketPosition} ${p.quantity}`);
  }

  async function addPaula(key = PAPER_KEY) {
    return rig.admin('POST', '/users', { relay_user: 'paula', crosstrade_key: key, webhook_url: rig.sim.webhookUrl(USER_KEY), paper: true });
  }

  it('creates a paper user through POST /users and shows it in GET /users', async () => {
    const created = await addPaula();
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ relay_user: 'paula', paper: true });
    const listed = await rig.admin('GET', '/users');
    expect(listed.body.users.map((u: { relay_user: string; paper: boolean }) => [u.relay_user, u.paper])).toEqual([
      ['bob', false],
      ['paula', true],
    ]);
    expect(
      (await rig.admin('POST', '/users', { relay_user: 'x', crosstrade_key: PAPER_KEY, webhook_url: 'https://a.test/v1/send/a', paper: 'yes' })).body,
    ).toEqual({
      error: 'paper must be true or false',
    });
  });

  it('arbitrates a paper user as in production, judged by the paper book, and sends nothing to CrossTrade', async () => {
    await addPaula();
    expect((await rig.post(asPaula(entry('A')))).body).toMatchObject({ decision: 'forwarded', signal_type: 'entry' });
    expect(await paperBook()).toEqual(['Long 1']);

    // A second strategy's entry while A holds the position: blocked, as a live user's would be.
    expect((await rig.post(asPaula(entry('B')))).body).toMatchObject({ decision: 'blocked' });
    rig.advance(10_001); // past A's fill grace: B's entry is checked against the paper book, which holds A's long
    const contested = await rig.post(asPaula(entry('B', { extra: 'relay_alert_id=2' })));
    expect(contested.body).toMatchObject({ decision: 'blocked' });
    expect(contested.body.reason).toMatch(/^position-open: owned by A, CrossTrade .*Long 1/);

    // The owner's exit is checked against the paper book (long 1) and fills there.
    expect((await rig.post(asPaula(exit('A')))).body).toMatchObject({ decision: 'forwarded', signal_type: 'exit' });
    expect(await paperBook()).toEqual([]);
    rig.advance(10_001);
    // A phantom exit now reads the paper book flat: dropped.
    expect((await rig.post(asPaula(exit('A', { extra: 'relay_alert_id=3' })))).body).toMatchObject({ decision: 'dropped' });

    expect(rig.sim.received).toEqual([]);
    expect(rig.sim.apiCalls).toBe(0);
    expect(rig.book()).toEqual([]);
    const logs = (await rig.admin('GET', '/logs?relay_user=paula')).body.logs.map((l: { relay_id: string; decision: string }) => `${l.relay_id} ${l.decision}`);
    // The oldest row is paula's creation through the management API, an admin row.
    expect(logs).toEqual(['A dropped', 'A forwarded', 'B blocked', 'B blocked', 'A forwarded', 'null admin']);
  });

  it('keeps a paper user apart from a live user of the same CrossTrade key', async () => {
    await addPaula(USER_KEY);
    expect((await rig.post(asPaula(entry('A')))).body).toMatchObject({ decision: 'forwarded' });
    // bob trades the real (simulated) account with the same key: paula's paper position does not block him.
    expect((await rig.post(entry('LIVE'))).body).toMatchObject({ decision: 'forwarded' });
    expect(rig.book()).toEqual(['Long 1']);
    expect(await paperBook(USER_KEY)).toEqual(['Long 1']);
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.sim.received[0]?.body).not.toContain('paula');
  });

  it('answers a paper order CrossTrade would refuse as a definite failure, nothing placed', async () => {
    await addPaula();
    const refused = await rig.post(asPaula(entry('A')).replace('qty=1', 'qty=0'));
    expect(refused.body).toMatchObject({ decision: 'failed' });
    expect(refused.body.reason).toBe('forward-failed: upstream-http-400; nothing was placed');
    expect(await paperBook()).toEqual([]);
    expect(rig.sim.received).toEqual([]);
  });
});

// Adversarial (issue 8): a paper user and a live user of one CrossTrade key never reach each other's
// book, also with the commands that act on every key of the CrossTrade user.
describe('paper and live users of one CrossTrade key', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });

  const paperBook = async () =>
    loadPaperBook(await rig.relay.store.getPaperBook(accountGroupOf(USER_KEY, true)), rig.now)
      .positions('Sim101')
      .map((p) => `${p.marketPosition} ${p.quantity}`);

  it('keeps FLATTENEVERYTHING and FLATTEN of either side on its own book, and the owners of the other side', async () => {
    await rig.admin('POST', '/users', { relay_user: 'paula', crosstrade_key: USER_KEY, webhook_url: rig.sim.webhookUrl(USER_KEY), paper: true });
    expect((await rig.post(asPaula(entry('A')))).body.decision).toBe('forwarded');
    expect((await rig.post(entry('LIVE'))).body.decision).toBe('forwarded');

    // paula flattens everything: only the paper book; bob's live owner and position stay.
    expect((await rig.post('relay_user=paula; relay_id=P; command=FLATTENEVERYTHING;')).body.decision).toBe('forwarded');
    expect(await paperBook()).toEqual([]);
    expect(rig.book()).toEqual(['Long 1']);
    expect(rig.sim.received).toHaveLength(1);
    // bob's second strategy is still blocked by LIVE (inside its hold and, after it, by the account).
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    rig.advance(10_001);
    expect((await rig.post(entry('B', { extra: 'relay_alert_id=2' }))).body.decision).toBe('blocked');
    expect(rig.book()).toEqual(['Long 1']);

    // paula enters again; bob flattens the live account: the paper position stays, and paula's A still owns it.
    expect((await rig.post(asPaula(entry('A', { extra: 'relay_alert_id=3' })))).body.decision).toBe('forwarded');
    expect((await rig.post('relay_user=bob; relay_id=X; command=FLATTEN; account=Sim101; instrument=ES 03-26;')).body.decision).toBe('forwarded');
    expect((await rig.post('relay_user=bob; relay_id=X; command=FLATTENEVERYTHING;')).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
    expect(await paperBook()).toEqual(['Long 1']);
    expect((await rig.post(asPaula(entry('B', { extra: 'relay_alert_id=4' })))).body.decision).toBe('blocked');
    expect(await paperBook()).toEqual(['Long 1']);
    expect(rig.sim.received.every((r) => !r.body.includes('paula'))).toBe(true);
  });
});
