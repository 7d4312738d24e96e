import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { command, order, sleep } from '../helpers/alerts.js';
import { spawnRelay } from '../helpers/spawn-relay.js';
import { ADMIN_TOKEN, entry, exit, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Issue 7, "Nobody owns" and "Shared accounts and the record". Judged by the simulator's book.
const PAST_GRACE_MS = 10_001;

/** Another process's write lock on the database file, held for `ms` of real time. */
function holdWriteLock(file: string, ms: number): { released: Promise<void> } {
  const db = new Database(file);
  db.exec('BEGIN IMMEDIATE');
  const released = sleep(ms).then(() => {
    db.exec('COMMIT');
    db.close();
  });
  return { released };
}

describe('nobody owns', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('case 8: an exit alone on a flat account is dropped, with a reason that says so', async () => {
    rig = await startTestRig();
    const x = await rig.post(exit('A'));
    expect(x.body).toEqual({
      decision: 'dropped',
      signal_type: 'exit',
      reason: 'position-mismatch: nobody-owns: an exit could close or reverse a position the relay did not open; CrossTrade reports flat',
    });
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual([]);
  });

  it('case 8: the same exit is forwarded when CrossTrade reads a position opened before the relay', async () => {
    rig = await startTestRig();
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 1);
    expect((await rig.post(exit('A'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
  });

  it('case 8: an exit larger than the position read is not sent (it would open an orphan)', async () => {
    rig = await startTestRig();
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 1);
    expect((await rig.post(order('A', 'long', 'flat', 'SELL', 2))).body.decision).toBe('dropped');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 8: a nobody-owns reversal is sent only when the account holds what it reverses', async () => {
    rig = await startTestRig();
    expect((await rig.post(order('A', 'long', 'short', 'SELL', 2))).body.decision).toBe('blocked');
    expect(rig.book()).toEqual([]);
  });

  it.each([
    ['flat', null, []],
    ['long 1 opened outside the relay', 1, ['Long 1']],
  ])(
    'case 9: an entry refused as "database busy" makes its strategy hold nothing; its exit is not sent (account %s)',
    async (_what, outside, book) => {
      rig = await startTestRig();
      if (outside !== null) rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', outside);
      const lock = holdWriteLock(rig.config.dbPath, 2_600);
      const e = await rig.post(entry('A'));
      expect(e).toMatchObject({ status: 503, body: { decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' } });
      await lock.released;
      const x = await rig.post(exit('A'));
      expect(x.body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: A holds no position here' });
      expect(rig.sim.received).toHaveLength(0);
      expect(rig.book()).toEqual(book);
      const rows = (await rig.relay.store.listLogs({ relayUser: 'bob', limit: 10 })).map((r) => [r.relayId, r.decision, r.reason]);
      expect(rows).toContainEqual(['A', 'blocked', 'database busy: nothing was decided or forwarded']);
    },
    20_000,
  );

  it('case 9: TradingView’s resend of the busy-refused entry gets its second chance', async () => {
    rig = await startTestRig();
    const lock = holdWriteLock(rig.config.dbPath, 2_600);
    expect((await rig.post(entry('A'))).status).toBe(503);
    await lock.released;
    rig.advance(5_000);
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  }, 20_000);

  it('case 9: a resend of the busy-refused entry arriving after the strategy’s exit is stale and not sent', async () => {
    rig = await startTestRig();
    const lock = holdWriteLock(rig.config.dbPath, 2_600);
    expect((await rig.post(entry('A'))).status).toBe(503);
    await lock.released;
    rig.advance(1_000);
    expect((await rig.post(exit('A'))).body.decision).toBe('dropped');
    rig.advance(4_000);
    expect((await rig.post(entry('A'))).body).toMatchObject({ decision: 'dropped', reason: expect.stringMatching(/^stale-resend: /) });
    expect(rig.book()).toEqual([]);
  }, 20_000);
});

describe('shared accounts and the record', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('case 10: two relay users with the same CrossTrade key enter the same account: one position', async () => {
    rig = await startTestRig();
    await rig.relay.store.saveUser({ relayUser: 'carol', crosstradeKey: USER_KEY, webhookUrl: rig.sim.webhookUrl(USER_KEY) });
    const asCarol = (text: string) => text.replace('relay_user=bob', 'relay_user=carol');
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    const contested = await rig.post(asCarol(entry('B')));
    expect(contested.body).toMatchObject({ decision: 'blocked', reason: expect.stringMatching(/^owner-order-pending: owned by A \(relay_user bob\)/) });
    // Carol's A is not bob's A.
    expect((await rig.post(asCarol(exit('A')))).body).toMatchObject({ decision: 'dropped', reason: 'phantom-exit: owned by A (relay_user bob)' });
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 10: simultaneous entries from two users sharing a key: exactly one forward', async () => {
    rig = await startTestRig();
    await rig.relay.store.saveUser({ relayUser: 'carol', crosstradeKey: USER_KEY, webhookUrl: rig.sim.webhookUrl(USER_KEY) });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rig.post(entry(`S${i}`).replace('relay_user=bob', i % 2 === 0 ? 'relay_user=bob' : 'relay_user=carol'))),
    );
    expect(answers.filter((a) => a.body.decision === 'forwarded')).toHaveLength(1);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it.each([
    ['FLATTEN', 'command=FLATTEN'],
    ['CLOSEPOSITION', 'command=CLOSEPOSITION'],
  ])('case 11: %s from another alert closes the position and the record follows: the owner’s later exit opens no orphan', async (_name, fields) => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    const flatten = await rig.post(command('EOD', fields));
    expect(flatten.body).toMatchObject({ decision: 'forwarded', signal_type: 'flatten' });
    expect(rig.book()).toEqual([]);
    expect(await rig.relay.store.listPositions('bob')).toEqual([]);
    expect((await rig.post(exit('A'))).body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: A holds no position here' });
    expect(rig.book()).toEqual([]);
  });

  it('case 11: a partial CLOSEPOSITION leaves the record in doubt: the owner’s exit is checked against the account', async () => {
    rig = await startTestRig();
    await rig.post(order('A', 'flat', 'long', 'BUY', 2));
    await rig.post(command('EOD', 'command=CLOSEPOSITION; qty=2'));
    expect(rig.book()).toEqual([]);
    expect((await rig.post(order('A', 'long', 'flat', 'SELL', 2))).body.decision).toBe('dropped');
    expect(rig.book()).toEqual([]);
  });

  it('case 11: REVERSE from the owner is read as its reversal and the record follows it', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    expect((await rig.post(command('A', 'command=REVERSE'))).body).toMatchObject({
      decision: 'forwarded',
      signal_type: 'order',
      reason: expect.stringMatching(/^order read as reversal \(CrossTrade reports Long 1 ES 03-26\): reversal: A owns the position/),
    });
    expect(rig.book()).toEqual(['Short 1']);
    expect((await rig.relay.store.listPositions('bob')).map((p) => `${p.relayId} ${p.direction}`)).toEqual(['A short']);
    expect((await rig.post(order('A', 'short', 'flat', 'BUY', 1))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
  });

  it('case 11: REVERSE from another strategy is blocked', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    expect((await rig.post(command('B', 'command=REVERSE'))).body.decision).toBe('blocked');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 11: a PLACE without market_position is read against the account: an add from a non-owner is blocked, an entry claims', async () => {
    rig = await startTestRig();
    const bare = (id: string, action: string) => command(id, `command=PLACE; action=${action}; qty=1; order_type=MARKET; tif=DAY`);
    expect((await rig.post(bare('A', 'BUY'))).body).toEqual({
      decision: 'forwarded',
      signal_type: 'order',
      reason: 'order read as entry (CrossTrade reports flat): entry: nobody owns the position',
    });
    expect((await rig.relay.store.listPositions('bob')).map((p) => p.relayId)).toEqual(['A']);
    expect((await rig.post(bare('B', 'BUY'))).body).toMatchObject({
      decision: 'blocked',
      reason: expect.stringMatching(/^order read as add .*: not-owner: owned by A/),
    });
    expect((await rig.post(bare('B', 'SELL'))).body).toMatchObject({
      decision: 'dropped',
      reason: expect.stringMatching(/^order read as exit .*: phantom-exit: owned by A/),
    });
    expect(rig.book()).toEqual(['Long 1']);
    expect((await rig.post(bare('A', 'SELL'))).body).toMatchObject({ decision: 'forwarded', reason: expect.stringMatching(/^order read as exit /) });
    expect(rig.book()).toEqual([]);
    expect(await rig.relay.store.listPositions('bob')).toEqual([]);
  });

  it('case 11: a position released with POST /positions/clear leaves its strategy holding nothing', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // closed by hand in NinjaTrader
    expect((await rig.admin('POST', '/positions/clear', { relay_user: 'bob', account: 'Sim101', instrument: 'ES 03-26' })).status).toBe(200);
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 1); // someone opens one by hand
    expect((await rig.post(exit('A'))).body.decision).toBe('dropped');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 11: remove-user releases the user’s positions; its strategies hold nothing when it comes back', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    expect((await rig.admin('DELETE', '/users/bob')).status).toBe(200);
    await rig.relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: rig.sim.webhookUrl(USER_KEY) });
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 1);
    expect((await rig.post(exit('A'))).body.decision).toBe('dropped');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 12: an entry refused by the webhook while the database is busy right after: the undo lands, the later exit is not sent', async () => {
    rig = await startTestRig({ forwardTimeoutMs: 1_200 });
    rig.sim.failWebhook({ kind: 'status', status: 400, delayMs: 400, times: 1 });
    const pending = rig.post(entry('B'));
    await sleep(150);
    const lock = holdWriteLock(rig.config.dbPath, 2_600);
    expect((await pending).body.decision).toBe('failed');
    await lock.released;
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 1); // a position B never had
    expect((await rig.post(exit('B'))).body).toEqual({ decision: 'dropped', signal_type: 'exit', reason: 'phantom-exit: B holds no position here' });
    expect(rig.book()).toEqual(['Long 1']);
    const row = (await rig.relay.store.listLogs({ relayUser: 'bob', limit: 10 })).find((r) => r.signalType === 'entry');
    expect(row?.decision).toBe('failed');
  }, 20_000);

  it('case 12: an exit delivered while the database is busy right after still releases its owner', async () => {
    rig = await startTestRig({ forwardTimeoutMs: 1_200 });
    await rig.post(entry('A'));
    rig.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 400, times: 1 });
    const pending = rig.post(exit('A'));
    await sleep(150);
    const lock = holdWriteLock(rig.config.dbPath, 2_600);
    expect((await pending).body.decision).toBe('forwarded');
    await lock.released;
    expect((await rig.post(entry('B'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
    expect((await rig.relay.store.listPositions('bob')).map((p) => p.relayId)).toEqual(['B']);
  }, 20_000);

  it('an owner’s exit after its position was closed outside the relay (an ATM stop) is not sent: no orphan short', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0);
    expect((await rig.post(exit('A'))).body).toMatchObject({
      decision: 'dropped',
      reason: expect.stringMatching(/^position-mismatch: confirm: .*CrossTrade reports flat/),
    });
    expect(rig.book()).toEqual([]);
    expect(await rig.relay.store.listPositions('bob')).toEqual([]);
  });

  it('an owner’s exit is sent when the account cannot be read: the record and the alert agree', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.advance(PAST_GRACE_MS);
    rig.sim.failApi({ kind: 'status', status: 408 });
    expect((await rig.post(exit('A'))).body).toMatchObject({
      decision: 'forwarded',
      reason: expect.stringMatching(/the record and the alert agree; CrossTrade check failed \(api-not-connected-408\)/),
    });
    expect(rig.book()).toEqual([]);
  });

  it('case 11: the record follows a position closed outside the relay: found gone, its owner holds nothing', async () => {
    rig = await startTestRig();
    await rig.post(entry('A'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // an ATM stop
    rig.advance(PAST_GRACE_MS);
    expect((await rig.post(entry('B'))).body.decision).toBe('forwarded');
    expect((await rig.post(exit('A'))).body.decision).toBe('dropped');
    expect(rig.book()).toEqual(['Long 1']);
  });
});

describe('case 13: the record never states an outcome other than what happened', () => {
  it('after kill -9 right after TradingView was answered "forwarded", the row says forwarded or unknown, never failed', async () => {
    const temp = makeTempDir();
    const { startSimulator } = await import('../../src/simulator/create-simulator.js');
    const sim = await startSimulator({ keys: [USER_KEY] });
    const db = temp.file('crash.db');
    const setup = createSqliteStore(db);
    await setup.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: sim.webhookUrl(USER_KEY) });
    await setup.close();
    const env = {
      RELAY_DB: db,
      RELAY_LOG_FILE: temp.file('crash.log'),
      CROSSTRADE_API_URL: sim.url,
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      RELAY_RATE_LIMIT_PER_MIN: '0',
    };
    const relay = await spawnRelay(env);
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) {
        const r = await fetch(`${relay.url}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: entry(`S${i}`, { account: `ACC${i}` }),
        });
        answers.push(((await r.json()) as { decision: string }).decision);
      }
      expect(await relay.stop('SIGKILL')).toBeNull();
      expect(answers).toEqual(Array(5).fill('forwarded'));
      const restarted = await spawnRelay(env);
      await restarted.stop('SIGTERM');
      const store = createSqliteStore(db);
      const decisions = (await store.listLogs({ limit: 10 })).map((r) => r.decision);
      await store.close();
      expect(decisions).toHaveLength(5);
      for (const d of decisions) expect(['forwarded', 'unknown']).toContain(d);
    } finally {
      await relay.stop('SIGKILL');
      await sim.close();
      temp.cleanup();
    }
  });
});
