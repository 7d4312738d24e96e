import { describe, expect, it } from 'vitest';
import { createLocalLimits } from '../../src/store/local-limits.js';
import type { LimitRule } from '../../src/store/store.js';

const LOCKOUT: LimitRule = { kind: 'window', limit: 2, windowMs: 60_000 };

describe('in-memory rate limits (SQLite)', () => {
  it('keeps at most maxSubjects: a flood of new addresses drops the states that no longer count before a live lockout', async () => {
    const limits = createLocalLimits({ maxSubjects: 3 });
    await limits.takeLimit('admin-failures', 'old-1', LOCKOUT, 0);
    await limits.takeLimit('admin-failures', 'old-2', LOCKOUT, 0);
    for (let i = 0; i < 2; i++) await limits.takeLimit('admin-failures', 'attacker', LOCKOUT, 50_000);
    // At 70 s old-1 and old-2 say nothing any more: they make room, the attacker stays locked.
    for (const source of ['new-1', 'new-2']) await limits.takeLimit('admin-failures', source, LOCKOUT, 70_000);
    expect((await limits.limitReached('admin-failures', 'attacker', LOCKOUT, 70_000)).allowed).toBe(false);
    // Full of live states: the oldest goes.
    await limits.takeLimit('admin-failures', 'new-3', LOCKOUT, 70_000);
    expect((await limits.limitReached('admin-failures', 'attacker', LOCKOUT, 70_000)).used).toBe(0);
    expect((await limits.limitReached('admin-failures', 'new-3', LOCKOUT, 70_000)).used).toBe(1);
  });
});
