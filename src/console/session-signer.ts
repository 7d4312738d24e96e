import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A console session as its cookie carries it. */
export interface ConsoleSession {
  /** When the session ends (ms since the epoch). */
  expiresAt: number;
  /** Random, per login: the CSRF token is derived from it. */
  nonce: string;
}

export interface SessionSigner {
  /** A new session cookie value, valid for `ttlMs` from `now`. */
  issue(now: number, ttlMs: number): { value: string; session: ConsoleSession };
  /** The session a cookie value holds, or null when it is malformed, forged, signed with another token, or expired. */
  read(value: string | undefined, now: number): ConsoleSession | null;
  /** The CSRF token of a session (sent in forms as `_csrf`). */
  csrfToken(session: ConsoleSession): string;
  /** Whether `presented` is the CSRF token of `session` (constant time). */
  checkCsrf(session: ConsoleSession, presented: unknown): boolean;
}

const VALUE = /^(\d{1,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * Signs and reads stateless console sessions (issue 11). The cookie is `expiry.nonce.mac`, an
 * HMAC-SHA256 under a key derived from the admin token: any instance on the same database checks
 * it without a session table (issue 10), and rotating the token ends every session at once.
 */
export function createSessionSigner(adminToken: string): SessionSigner {
  // A key of its own, so the MAC never is a hash of the token anything else could compute or show.
  const key = createHmac('sha256', adminToken).update('trade-relay console session v1').digest();
  const mac = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const csrfToken = (session: ConsoleSession) => mac(`csrf.${session.nonce}`);
  return {
    issue(now, ttlMs) {
      const session = { expiresAt: Math.floor(now + ttlMs), nonce: randomBytes(16).toString('base64url') };
      const body = `${session.expiresAt}.${session.nonce}`;
      return { value: `${body}.${mac(body)}`, session };
    },
    read(value, now) {
      const match = VALUE.exec(value ?? '');
      if (match === null) return null;
      const [, expiry, nonce, presented] = match as unknown as [string, string, string, string];
      if (!same(presented, mac(`${expiry}.${nonce}`))) return null;
      const expiresAt = Number(expiry);
      return expiresAt > now ? { expiresAt, nonce } : null;
    },
    csrfToken,
    checkCsrf: (session, presented) => typeof presented === 'string' && same(presented, csrfToken(session)),
  };
}
