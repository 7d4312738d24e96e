import { limitWithin } from '../store/limit-within.js';
import type { Store } from '../store/store.js';
import { ADMIN_LOCKOUT } from './routes/admin.js';

/**
 * The admin lockout as the console's login sees it: the same count in the store as the
 * management API's (10 failures in 15 minutes per source address, shared by every instance on
 * one PostgreSQL database), so guessing through either halts both.
 */
export interface AdminLockout {
  /** True when `source` (an IP address) is locked out. Throws the store's unavailable error when the count cannot be read within 200 ms: the caller fails closed (503). */
  isBlocked(source: string): Promise<boolean>;
  /** Counts one failure from `source`; false when it is now over the limit. Throws as `isBlocked`. */
  take(source: string): Promise<boolean>;
}

export function createAdminLockout(store: Store, now: () => number): AdminLockout {
  const { name, rule } = ADMIN_LOCKOUT;
  const answer = async <T>(call: Promise<T>): Promise<T> => {
    const result = await limitWithin(call);
    if ('error' in result) throw result.error;
    return result.value;
  };
  return {
    isBlocked: async (source) => !(await answer(store.limitReached(name, source, rule, now()))).allowed,
    take: async (source) => (await answer(store.takeLimit(name, source, rule, now()))).allowed,
  };
}
