import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LimitRule, Store } from '../../../src/store/store.js';
import { T0 } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

const WINDOW: LimitRule = { kind: 'window', limit: 3, windowMs: 60_000 };
const BUCKET: LimitRule = { kind: 'bucket', capacity: 20, refillPerSecond: 3 };

/** Rate limits (issue 10): fixed windows (webhook, admin lockout) and token buckets (CrossTrade's API budget). */
export function describeLimitsContract(harness: StoreHarness): void {
  describe('rate limits', () => {
    let store: Store;
    beforeEach(async () => {
      store = await harness.open({ now: () => T0 });
    });
    afterEach(() => harness.cleanup());

    const takes = async (name: string, subject: string, rule: LimitRule, at: number, n: number) => {
      const answers = [];
      for (let i = 0; i < n; i++) answers.push(await store.takeLimit(name, subject, rule, at));
      return answers;
    };

    it('window: allows `limit` events per subject, refuses the next ones until the window ends, then counts afresh', async () => {
      const answers = await takes('webhook', '192.0.2.1', WINDOW, T0, 5);
      expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false, false]);
      expect(answers.map((a) => a.remaining)).toEqual([2, 1, 0, 0, 0]);
      expect(answers[0]?.retryAfterMs).toBe(0);
      expect(answers[3]?.retryAfterMs).toBe(60_000);
      expect(await store.takeLimit('webhook', '192.0.2.1', WINDOW, T0 + 59_000)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1_000, used: 6 });
      // Other subjects and other limits count on their own.
      expect((await store.takeLimit('webhook', '192.0.2.2', WINDOW, T0)).allowed).toBe(true);
      expect((await store.takeLimit('admin-failures', '192.0.2.1', WINDOW, T0)).allowed).toBe(true);
      expect(await store.takeLimit('webhook', '192.0.2.1', WINDOW, T0 + 60_000)).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0, used: 1 });
    });

    it('window: limitReached tells without counting, and resetLimit forgets the subject', async () => {
      expect(await store.limitReached('admin-failures', '192.0.2.1', WINDOW, T0)).toEqual({ allowed: true, remaining: 3, retryAfterMs: 0, used: 0 });
      await takes('admin-failures', '192.0.2.1', WINDOW, T0, 2);
      for (let i = 0; i < 3; i++) {
        expect(await store.limitReached('admin-failures', '192.0.2.1', WINDOW, T0 + 1_000)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0, used: 2 });
      }
      await store.takeLimit('admin-failures', '192.0.2.1', WINDOW, T0 + 2_000);
      expect(await store.limitReached('admin-failures', '192.0.2.1', WINDOW, T0 + 3_000)).toEqual({
        allowed: false,
        remaining: 0,
        retryAfterMs: 57_000,
        used: 3,
      });
      expect((await store.limitReached('admin-failures', '192.0.2.1', WINDOW, T0 + 60_000)).allowed).toBe(true);
      await store.resetLimit('admin-failures', '192.0.2.1');
      expect(await store.limitReached('admin-failures', '192.0.2.1', WINDOW, T0 + 3_000)).toEqual({ allowed: true, remaining: 3, retryAfterMs: 0, used: 0 });
      await store.resetLimit('admin-failures', 'never-seen');
    });

    it('bucket: a burst of `capacity`, then refused with the time to the next token, refilled at its rate but never past capacity', async () => {
      const burst = await takes('crosstrade-api', 'group-a', BUCKET, T0, 21);
      expect(burst.filter((a) => a.allowed)).toHaveLength(20);
      expect(burst[19]).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, used: 20 });
      expect(burst[20]).toEqual({ allowed: false, remaining: 0, retryAfterMs: 334, used: 20 });
      // 3 tokens a second: 1 s later three more calls, not four.
      expect((await takes('crosstrade-api', 'group-a', BUCKET, T0 + 1_000, 4)).map((a) => a.allowed)).toEqual([true, true, true, false]);
      // A long rest fills it to 20, no more.
      expect((await takes('crosstrade-api', 'group-a', BUCKET, T0 + 3_600_000, 21)).filter((a) => a.allowed)).toHaveLength(20);
      // Another CrossTrade user has a budget of its own.
      expect((await store.takeLimit('crosstrade-api', 'group-b', BUCKET, T0)).remaining).toBe(19);
    });

    it('bucket: a take of several tokens spends them all or none, and a refused take spends nothing', async () => {
      expect(await store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0, 15)).toEqual({ allowed: true, remaining: 5, retryAfterMs: 0, used: 15 });
      expect(await store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0, 6)).toEqual({ allowed: false, remaining: 5, retryAfterMs: 334, used: 15 });
      expect(await store.limitReached('crosstrade-api', 'group-a', BUCKET, T0)).toEqual({ allowed: true, remaining: 5, retryAfterMs: 0, used: 15 });
      expect((await store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0, 5)).allowed).toBe(true);
      expect(await store.limitReached('crosstrade-api', 'group-a', BUCKET, T0)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 334, used: 20 });
      expect((await store.takeLimit('crosstrade-api', 'group-c', BUCKET, T0, 21)).allowed).toBe(false);
      expect((await store.takeLimit('crosstrade-api', 'group-c', BUCKET, T0, 20)).allowed).toBe(true);
    });

    it('bucket: a clock that went back (another instance’s) refills nothing', async () => {
      await takes('crosstrade-api', 'group-a', BUCKET, T0 + 5_000, 20);
      expect((await store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0, 1)).allowed).toBe(false);
      expect((await store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0 + 5_000, 1)).allowed).toBe(false);
      expect((await store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0 + 5_334, 1)).allowed).toBe(true);
    });

    it('counts takes made at once each exactly once', async () => {
      const answers = await Promise.all(Array.from({ length: 30 }, () => store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0)));
      expect(answers.filter((a) => a.allowed)).toHaveLength(20);
      const window = await Promise.all(Array.from({ length: 10 }, () => store.takeLimit('webhook', '192.0.2.9', WINDOW, T0)));
      expect(window.filter((a) => a.allowed)).toHaveLength(3);
      expect((await store.limitReached('webhook', '192.0.2.9', WINDOW, T0)).used).toBe(10);
    });
  });
}
