import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminLockout } from '../http/admin-lockout.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/store.js';
import type { LogFeed } from './create-log-feed.js';
import type { LoggedOutSessions } from './logged-out-sessions.js';
import type { ConsoleSession, SessionSigner } from './session-signer.js';

/** What the console's route modules share (built once by registerConsole). */
export interface ConsoleContext {
  store: Store;
  logger: Logger;
  now: () => number;
  /** The token in effect, read at each request (a rotated one ends every session at once). */
  adminToken: () => Promise<string | null>;
  /** Failed admin attempts per address, the same count as the management API's. */
  failures: AdminLockout;
  feed: LogFeed;
  /** Sessions ended by a logout: their cookies are refused. */
  loggedOut: LoggedOutSessions;
  /** The signer of the token in effect; null when no admin token is set (the console is closed). */
  signer(): Promise<SessionSigner | null>;
  /** The session the request's cookie holds (set by the console's auth hook), or null. */
  sessionOf(request: FastifyRequest): ConsoleSession | null;
  /** The CSRF token of the request's session, or null without one. */
  csrfOf(request: FastifyRequest): string | null;
  /** Sends a page: the layout with nav and the CSRF token when the request has a session. */
  page(request: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown>, status?: number): Promise<FastifyReply>;
  /** The request's source address, as the signal log and the lockout count it. */
  sourceOf(request: FastifyRequest): string;
}
