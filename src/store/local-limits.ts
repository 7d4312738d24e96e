import { type LimitState, stepLimit } from './limit-step.js';
import type { Store } from './store.js';

/** The rate-limit part of the store contract. */
export type Limits = Pick<Store, 'takeLimit' | 'limitReached' | 'resetLimit'>;

/**
 * Rate limits in this process's memory, for the SQLite store (one relay process per database
 * file, so nothing to share). Lost at a restart, which throttling can afford: the allow-list and
 * the tokens are the real gates. At most `maxSubjects` subjects are kept (about 100 bytes each):
 * a flood of distinct addresses first drops the states that no longer count, then the oldest.
 */
export function createLocalLimits(options: { maxSubjects?: number } = {}): Limits {
  const maxSubjects = options.maxSubjects ?? 100_000;
  const states = new Map<string, LimitState & { expiresAt: number }>();
  const id = (name: string, subject: string) => `${name}\0${subject}`;

  const makeRoom = (now: number) => {
    if (states.size < maxSubjects) return;
    for (const [key, state] of states) if (state.expiresAt <= now) states.delete(key);
    // Map order is insertion order: the oldest first.
    for (const key of states.keys()) {
      if (states.size < maxSubjects) break;
      states.delete(key);
    }
  };

  return {
    takeLimit: async (name, subject, rule, now, cost = 1) => {
      const key = id(name, subject);
      const before = states.get(key) ?? null;
      if (before === null) makeRoom(now);
      const step = stepLimit(before, rule, now, cost, true);
      states.set(key, { ...step.state, expiresAt: step.expiresAt });
      return step.answer;
    },
    limitReached: async (name, subject, rule, now) => stepLimit(states.get(id(name, subject)) ?? null, rule, now, 1, false).answer,
    resetLimit: async (name, subject) => {
      states.delete(id(name, subject));
    },
  };
}
