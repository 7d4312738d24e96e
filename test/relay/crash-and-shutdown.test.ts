import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/create-simulator.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { INTERRUPTED_REASON } from '../../src/start-relay.js';
import { spawnRelay, type SpawnedRelay } from '../helpers/spawn-relay.js';
import { ADMIN_TOKEN, entry, USER_KEY } from '../helpers/start-test-relay.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('crashes and shutdown', () => {
  const temp = makeTempDir();
  let sim: Simulator;
  const relays: SpawnedRelay[] = [];
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop('SIGKILL')));
    await sim.close();
  });

  const setUp = async (name: string) => {
    sim = await startSimulator({ keys: [USER_KEY] });
    const env = {
      RELAY_DB: temp.file(`${name}.db`),
      RELAY_LOG_FILE: temp.file(`${name}.log`),
      CROSSTRADE_API_URL: sim.url,
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      RELAY_RATE_LIMIT_PER_MIN: '0',
    };
    const store = createSqliteStore(env.RELAY_DB);
    await store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: sim.webhookUrl(USER_KEY) });
    await store.close();
    return env;
  };
  const post = (url: string, body: string) =>
    fetch(`${url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body }).then(
      (r) => r.status,
      () => 0, // the relay died under it
    );

  /** Every account's net position in the simulator's book, as `ACC7 Long 1`. */
  const bookLines = () => sim.positions().map((p) => `${p.account} ${p.marketPosition} ${p.quantity}`);

  it('after kill -9 mid-burst and a restart: every forward has its log row, every owner its decision, never `failed`, state intact', async () => {
    const env = await setUp('crash');
    const first = await spawnRelay(env);
    relays.push(first);
    const burst = Array.from({ length: 300 }, (_, i) => post(first.url, entry(`S${i}`, { account: `ACC${i}` })));
    while (sim.received.length < 20) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await first.stop('SIGKILL')).toBeNull();
    // Answered 200 before the kill, or not at all: never a 5xx that TradingView would resend.
    for (const status of await Promise.all(burst)) expect([0, 200]).toContain(status);
    // Orders the relay wrote to its sockets before it died may still be on their way to the
    // simulator: judge once its list of received orders has stopped growing.
    for (let seen = -1; seen !== sim.received.length; ) {
      seen = sim.received.length;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }

    const store = createSqliteStore(env.RELAY_DB);
    try {
      const logs = await store.listLogs({ limit: 1000 });
      // Sent orders: delivered, still pending at the kill, or answered ambiguously (never `failed`).
      const loggedAccounts = new Set(logs.filter((l) => ['forwarded', 'pending', 'unknown'].includes(l.decision)).map((l) => l.account));
      const forwardedAccounts = sim.received.map((r) => /account=(ACC\d+)/.exec(r.body)?.[1]);
      expect(forwardedAccounts.length).toBeGreaterThanOrEqual(20);
      for (const account of forwardedAccounts) expect(loggedAccounts).toContain(account);
      for (const position of await store.listPositions()) {
        expect(logs.some((l) => l.account === position.account && l.relayId === position.relayId && l.signalType === 'entry')).toBe(true);
      }
      const positionsBefore = (await store.listPositions()).map((p) => [p.account, p.relayId]);
      await store.close();

      const second = await spawnRelay(env);
      relays.push(second);
      expect((await fetch(`${second.url}/health`)).status).toBe(200);
      const reopened = createSqliteStore(env.RELAY_DB);
      expect((await reopened.listPositions()).map((p) => [p.account, p.relayId])).toEqual(positionsBefore);
      // Rows the crash left pending are closed as `unknown`, never `failed`: the order may have been sent.
      const after = await reopened.listLogs({ limit: 1000 });
      expect(after.filter((l) => l.decision === 'pending')).toEqual([]);
      expect(after.filter((l) => l.decision === 'failed')).toEqual([]);
      const interrupted = after.filter((l) => l.reason === INTERRUPTED_REASON);
      expect(interrupted.length).toBe(logs.filter((l) => l.decision === 'pending').length);
      expect(interrupted.every((l) => l.decision === 'unknown')).toBe(true);
      // Keys the crash left in flight are in doubt: the next alert of each is checked against CrossTrade.
      expect((await reopened.listPositions()).every((p) => p.doubt === null || p.doubt === 'unknown-outcome')).toBe(true);
      await reopened.close();
      // The book: one contract on each account that got an order, and every such position has an owner.
      const book = bookLines();
      expect(book.sort()).toEqual([...new Set(forwardedAccounts)].map((account) => `${account} Long 1`).sort());
      const owned = new Set(positionsBefore.map(([account]) => account));
      for (const account of forwardedAccounts) expect(owned).toContain(account);
      // and it serves alerts with the same state: the first account's owner still holds it
      const account = positionsBefore[0]![0] as string;
      const contested = await fetch(`${second.url}/webhook`, { method: 'POST', body: entry('OTHER', { account }) });
      expect(contested.status).toBe(200);
      expect(((await contested.json()) as { decision: string }).decision).toBe('blocked');
      expect(sim.positions(account).map((p) => `${p.marketPosition} ${p.quantity}`)).toEqual(forwardedAccounts.includes(account) ? ['Long 1'] : []);
    } finally {
      await store.close();
    }
  });

  it('on SIGTERM finishes the alerts in flight (200 `unknown` for a forward that hangs), closes the database and exits 0', async () => {
    const env = await setUp('term');
    const relay = await spawnRelay(env);
    relays.push(relay);
    // CrossTrade takes the order and never answers: the forward takes its whole timeout (1.5 s).
    sim.failWebhook({ kind: 'hang', apply: true });
    const inFlight = fetch(`${relay.url}/webhook`, { method: 'POST', body: entry('A') });
    while (sim.received.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const exitCode = relay.stop('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { decision: string }).decision).toBe('unknown');
    expect(await exitCode).toBe(0);
    const store = createSqliteStore(env.RELAY_DB);
    expect((await store.listLogs({ limit: 5 })).map((l) => l.decision)).toEqual(['unknown']);
    // The order may have been placed: its strategy keeps the key, in doubt, so nobody else's entry doubles it.
    expect((await store.listPositions()).map((p) => [p.account, p.relayId, p.doubt])).toEqual([['Sim101', 'A', 'unknown-outcome']]);
    await store.close();
    expect(sim.positions('Sim101').map((p) => `${p.marketPosition} ${p.quantity}`)).toEqual(['Long 1']);
  });
});
