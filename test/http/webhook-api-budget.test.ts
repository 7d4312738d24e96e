import { afterEach, describe, expect, it } from 'vitest';
import { entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// CrossTrade's API allows 180 calls a minute per CrossTrade user, bursts of 20
// (docs/external-systems.md §3.2). The relay spends from that budget before each position read; a read
// the budget does not allow is not made and counts as a failed check, as CrossTrade's own 429 would
// (README, "When CrossTrade cannot be read"): what could open exposure is blocked, the owner's
// agreeing exit is sent. Judged by the simulator: the reads it counted and its book.

const ACCOUNTS = Array.from({ length: 30 }, (_, i) => `Sim${200 + i}`);
const UNREAD = 'CrossTrade check failed (api-budget-spent)';

describe("CrossTrade's API budget (bursts of 20, then 3 calls a second)", () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it("sends the owner's agreeing exits past the burst without a read, as on CrossTrade's 429, and logs why", async () => {
    rig = await startTestRig();
    // Entries on keys nobody owns are decided by the record alone: no read, no budget spent.
    for (const account of ACCOUNTS) expect((await rig.post(entry('A', { account }))).body.decision).toBe('forwarded');
    // Forwards take nothing from the budget: the webhook is not the API (docs/external-systems.md §2.8, §3.2).
    expect(rig.sim.apiCalls).toBe(0);

    const started = Date.now();
    const answers = await Promise.all(ACCOUNTS.map((account) => rig.post(exit('A', { account }))));
    const elapsedS = (Date.now() - started) / 1000;

    expect(answers.map((a) => a.body.decision)).toEqual(ACCOUNTS.map(() => 'forwarded'));
    // 20 at once, and the 3 a second that came back while the burst ran.
    expect(rig.sim.apiCalls).toBeGreaterThanOrEqual(20);
    expect(rig.sim.apiCalls).toBeLessThanOrEqual(20 + Math.ceil(3 * elapsedS));
    const unread = answers.filter((a) => String(a.body.reason).includes(UNREAD));
    expect(unread).toHaveLength(ACCOUNTS.length - rig.sim.apiCalls);
    expect(unread.length).toBeGreaterThan(0);
    for (const account of ACCOUNTS) expect(rig.book(account)).toEqual([]);
    const rows = await rig.relay.store.listLogs({ decisions: ['forwarded'], limit: 100 });
    expect(rows.filter((row) => row.apiCheck === 'failed: api-budget-spent')).toHaveLength(unread.length);
  });

  it('blocks an entry that needs a read the budget does not allow: it is never sent', async () => {
    rig = await startTestRig();
    for (const account of ACCOUNTS) await rig.post(entry('A', { account }));
    // Past A's hold, B's entries on A's positions need CrossTrade's word that the account is flat.
    rig.advance(20_000);
    const answers = await Promise.all(ACCOUNTS.map((account) => rig.post(entry('B', { account }))));
    expect(answers.map((a) => a.body.decision)).toEqual(ACCOUNTS.map(() => 'blocked'));
    const unread = answers.filter((a) => String(a.body.reason).startsWith('position-check-failed') && String(a.body.reason).includes(UNREAD));
    expect(unread).toHaveLength(ACCOUNTS.length - rig.sim.apiCalls);
    expect(unread.length).toBeGreaterThan(0);
    // Only A's entries reached CrossTrade: one contract per account, nothing stacked.
    expect(rig.sim.received).toHaveLength(ACCOUNTS.length);
    for (const account of ACCOUNTS) expect(rig.book(account)).toEqual(['Long 1']);
  });

  it('keeps no budget with RELAY_API_CALLS_PER_MIN=0: every exit is read and sent', async () => {
    rig = await startTestRig({ apiCallsPerMin: 0 });
    for (const account of ACCOUNTS) await rig.post(entry('A', { account }));
    const answers = await Promise.all(ACCOUNTS.map((account) => rig.post(exit('A', { account }))));
    expect(answers.map((a) => a.body.decision)).toEqual(ACCOUNTS.map(() => 'forwarded'));
    expect(rig.sim.apiCalls).toBe(ACCOUNTS.length);
  });

  it('reads again as the budget refills: the unread entries, sent again later, are checked', async () => {
    rig = await startTestRig();
    for (const account of ACCOUNTS.slice(0, 25)) await rig.post(entry('A', { account }));
    rig.advance(20_000);
    const first = await Promise.all(ACCOUNTS.slice(0, 25).map((account) => rig.post(entry('B', { account }))));
    const unread = ACCOUNTS.slice(0, 25).filter((_, i) => String(first[i]?.body.reason).includes(UNREAD));
    expect(unread.length).toBeGreaterThan(0);
    // 10 s later the bucket is full again: the same entries, sent again, are read and blocked on what the account holds.
    rig.advance(10_000);
    const calls = rig.sim.apiCalls;
    const again = await Promise.all(unread.map((account) => rig.post(entry('B', { account, extra: 'relay_alert_id=again;' }))));
    expect(again.map((a) => a.body.decision)).toEqual(unread.map(() => 'blocked'));
    for (const answer of again) expect(String(answer.body.reason)).not.toContain('api-budget-spent');
    expect(rig.sim.apiCalls - calls).toBe(unread.length);
    expect(ACCOUNTS.slice(0, 25).flatMap((account) => rig.book(account))).toEqual(ACCOUNTS.slice(0, 25).map(() => 'Long 1'));
  });
});
