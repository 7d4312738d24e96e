import { afterEach, describe, expect, it } from 'vitest';
import { entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// CrossTrade's API allows 180 calls a minute per CrossTrade user, bursts of 20
// (docs/external-systems.md §3.2). The relay spends from that budget before each position read; once it is spent, an alert that
// needs a read is blocked (`api-budget-spent`), never forwarded unchecked. Judged by the simulator:
// the reads it counted and its book.

const ACCOUNTS = Array.from({ length: 30 }, (_, i) => `Sim${200 + i}`);

describe("CrossTrade's API budget (bursts of 20, then 3 calls a second)", () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('blocks the owner exits past the burst with api-budget-spent, sends none of them, and logs why', async () => {
    rig = await startTestRig();
    // Entries on keys nobody owns are decided by the record alone: no read, no budget spent.
    for (const account of ACCOUNTS) expect((await rig.post(entry('A', { account }))).body.decision).toBe('forwarded');
    // Forwards take nothing from the budget: the webhook is not the API (docs/external-systems.md §2.8, §3.2).
    expect(rig.sim.apiCalls).toBe(0);

    const started = Date.now();
    const answers = await Promise.all(ACCOUNTS.map((account) => rig.post(exit('A', { account }))));
    const elapsedS = (Date.now() - started) / 1000;

    const forwarded = ACCOUNTS.filter((_, i) => answers[i]?.body.decision === 'forwarded');
    const blocked = ACCOUNTS.filter((_, i) => answers[i]?.body.decision === 'blocked');
    expect(forwarded.length + blocked.length).toBe(ACCOUNTS.length);
    // 20 at once, and the 3 a second that came back while the burst ran.
    expect(rig.sim.apiCalls).toBeGreaterThanOrEqual(20);
    expect(rig.sim.apiCalls).toBeLessThanOrEqual(20 + Math.ceil(3 * elapsedS));
    expect(forwarded).toHaveLength(rig.sim.apiCalls);
    expect(blocked.length).toBeGreaterThan(0);
    for (const answer of answers.filter((a) => a.body.decision === 'blocked')) {
      expect(answer.status).toBe(200);
      expect(answer.body.reason).toBe(
        "api-budget-spent: confirm: the account is checked for a position changed outside the relay; this CrossTrade user's API budget is spent, so the account was not read: nothing was forwarded",
      );
    }
    // Nothing blocked reached CrossTrade: those accounts still hold their position.
    expect(rig.sim.received).toHaveLength(ACCOUNTS.length + forwarded.length);
    for (const account of forwarded) expect(rig.book(account)).toEqual([]);
    for (const account of blocked) expect(rig.book(account)).toEqual(['Long 1']);
    const rows = await rig.relay.store.listLogs({ decisions: ['blocked'], limit: 100 });
    expect(rows).toHaveLength(blocked.length);
    for (const row of rows) {
      expect(row.reason.startsWith('api-budget-spent: ')).toBe(true);
      expect(row.apiCheck).toBe('failed: api-budget-spent');
    }
  });

  it('keeps no budget with RELAY_API_CALLS_PER_MIN=0: every exit is read and sent', async () => {
    rig = await startTestRig({ apiCallsPerMin: 0 });
    for (const account of ACCOUNTS) await rig.post(entry('A', { account }));
    const answers = await Promise.all(ACCOUNTS.map((account) => rig.post(exit('A', { account }))));
    expect(answers.map((a) => a.body.decision)).toEqual(ACCOUNTS.map(() => 'forwarded'));
    expect(rig.sim.apiCalls).toBe(ACCOUNTS.length);
  });

  it('lets reads go on as the budget refills: the blocked exits, sent again later, are checked and sent', async () => {
    rig = await startTestRig();
    for (const account of ACCOUNTS.slice(0, 25)) await rig.post(entry('A', { account }));
    rig.advance(20_000);
    const first = await Promise.all(ACCOUNTS.slice(0, 25).map((account) => rig.post(exit('A', { account }))));
    const blocked = ACCOUNTS.slice(0, 25).filter((_, i) => first[i]?.body.decision === 'blocked');
    expect(blocked.length).toBeGreaterThan(0);
    // 10 s later the bucket is full again: the blocked exits, sent again, are checked and sent.
    rig.advance(10_000);
    const calls = rig.sim.apiCalls;
    const again = await Promise.all(blocked.map((account) => rig.post(exit('A', { account, extra: 'relay_alert_id=again;' }))));
    expect(again.map((a) => a.body.decision)).toEqual(blocked.map(() => 'forwarded'));
    expect(rig.sim.apiCalls - calls).toBe(blocked.length);
    expect(ACCOUNTS.slice(0, 25).flatMap((account) => rig.book(account))).toEqual([]);
  });
});
