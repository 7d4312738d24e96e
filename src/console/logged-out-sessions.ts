import type { Store } from '../store/store.js';
import type { ConsoleSession } from './session-signer.js';

/** The store setting that lists the sessions ended by a logout: JSON `[[nonce, expiresAt], ...]`. */
export const LOGGED_OUT_SETTING = 'console_logged_out';

export interface LoggedOutSessions {
  /** Whether `session` was ended by a logout (on any instance on the database). */
  has(session: ConsoleSession): Promise<boolean>;
  /** Ends `session`: its cookie, wherever a copy of it is, is refused until it would have expired anyway. */
  add(session: ConsoleSession): Promise<void>;
}

/**
 * The sessions ended by a logout (issue 11). Sessions are stateless cookies, so clearing the cookie
 * alone would leave a copy of it valid for hours; the list is kept in the store, shared by every
 * instance, and holds a session only until its expiry (a few entries: logouts of the last 12 hours).
 * Two logouts at the same moment on two instances may keep only one of them (a read, then a write).
 */
export function createLoggedOutSessions(store: Pick<Store, 'getSetting' | 'setSetting'>, now: () => number): LoggedOutSessions {
  const read = async (): Promise<[string, number][]> => {
    try {
      const value: unknown = JSON.parse((await store.getSetting(LOGGED_OUT_SETTING)) ?? '[]');
      return Array.isArray(value) ? value.filter((e): e is [string, number] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number') : [];
    } catch {
      return [];
    }
  };
  return {
    has: async (session) => (await read()).some(([nonce]) => nonce === session.nonce),
    async add(session) {
      const at = now();
      const kept = (await read()).filter(([, expiresAt]) => expiresAt > at);
      await store.setSetting(LOGGED_OUT_SETTING, JSON.stringify([...kept, [session.nonce, session.expiresAt]]));
    },
  };
}
