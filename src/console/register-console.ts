import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { unmapIPv4 } from '../config/address-list.js';
import type { AdminLockout } from '../http/admin-lockout.js';
import { refuseLockedOut } from './refuse-locked-out.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/store.js';
import { registerActionRoutes } from './action-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import type { ConsoleContext } from './console-context.js';
import { createLogFeed, type LogFeed } from './create-log-feed.js';
import { createRenderer } from './create-renderer.js';
import { createLoggedOutSessions } from './logged-out-sessions.js';
import { registerEventsRoute } from './events-route.js';
import { registerPageRoutes } from './page-routes.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { SESSION_COOKIE } from './session-cookie.js';
import { type ConsoleSession, createSessionSigner, type SessionSigner } from './session-signer.js';

export interface ConsoleOptions {
  store: Store;
  logger: Logger;
  adminToken: () => string | null | undefined | Promise<string | null | undefined>;
  now: () => number;
  /** The management API's count of failed admin attempts: a failed login counts in the same lockout. */
  failures: AdminLockout;
  /** The live feed; default: one polling this store every 400 ms. */
  feed?: LogFeed;
}

interface RequestSession {
  session: ConsoleSession;
  signer: SessionSigner;
}

/** Routes that answer without a session: the login form and the stylesheet and script (they show no data). */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/console/login', '/console/assets/*']);

/**
 * The web console (issue 11), served by the relay at `/` and under `/console/`: pages rendered on
 * the server, a little client script, live updates over Server-Sent Events. Every route but the
 * login and the static assets requires a session, got by logging in with the admin token.
 */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions): void {
  const feed = options.feed ?? createLogFeed({ store: options.store, logger: options.logger, now: options.now });
  const render = createRenderer(fileURLToPath(new URL('./views/', import.meta.url)));
  // The session of each request, with the signer that read it: the token is read once per request.
  const sessions = new WeakMap<FastifyRequest, RequestSession>();
  const adminToken = async () => (await options.adminToken()) || null;
  const signer = async (): Promise<SessionSigner | null> => {
    const token = await adminToken();
    return token === null ? null : createSessionSigner(token);
  };

  const context: ConsoleContext = {
    store: options.store,
    logger: options.logger,
    now: options.now,
    adminToken,
    failures: options.failures,
    feed,
    loggedOut: createLoggedOutSessions(options.store, options.now),
    signer,
    sessionOf: (request) => sessions.get(request)?.session ?? null,
    csrfOf: (request) => {
      const found = sessions.get(request);
      return found === undefined ? null : found.signer.csrfToken(found.session);
    },
    sourceOf: (request) => unmapIPv4(request.ip),
    async page(request, reply, view, data, status = 200) {
      const html = render(view, { notice: null, error: null, ...data, page: view, csrf: context.csrfOf(request) });
      return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
    },
  };

  // Encapsulated: the form parser and the cookie plugin stay out of /webhook and the management API.
  app.register(async (scope) => {
    await scope.register(fastifyCookie);
    await scope.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
    await scope.register(fastifyStatic, {
      root: fileURLToPath(new URL('./assets/', import.meta.url)),
      prefix: '/console/assets/',
      decorateReply: false,
      maxAge: 60_000,
    });

    scope.addHook('onSend', async (_request, reply) => {
      void reply.headers(SECURITY_HEADERS);
    });
    scope.addHook('onRequest', (request, reply) => gate(context, sessions, request, reply));
    scope.addHook('preHandler', (request, reply) => checkCsrf(sessions, request, reply));
    // Open streams would hold close() until their clients leave.
    scope.addHook('preClose', async () => feed.close());

    registerAuthRoutes(scope, context);
    registerPageRoutes(scope, context);
    registerActionRoutes(scope, context);
    registerEventsRoute(scope, context);
  });
}

/** The lockout, then the session: pages without one go to the login form, anything else gets 401. */
async function gate(context: ConsoleContext, sessions: WeakMap<FastifyRequest, RequestSession>, request: FastifyRequest, reply: FastifyReply) {
  const route = request.routeOptions.url ?? '';
  if (route === '/console/assets/*') return;
  if (await context.failures.isBlocked(context.sourceOf(request))) {
    context.logger.warn({ url: request.url, source: context.sourceOf(request) }, 'console request refused: too many failed attempts');
    return refuseLockedOut(reply);
  }
  const signer = await context.signer();
  const read = signer?.read(request.cookies[SESSION_COOKIE.name], context.now()) ?? null;
  const session = read !== null && (await context.loggedOut.has(read)) ? null : read;
  if (signer !== null && session !== null) sessions.set(request, { session, signer });
  if (session !== null || PUBLIC_ROUTES.has(route)) return;
  if (request.method === 'GET' && route !== '/console/events' && route !== '/console/now.json') return reply.redirect('/console/login', 303);
  return reply.code(401).type('text/plain; charset=utf-8').send('log in to the console first');
}

/**
 * Every state-changing request: its Origin (when the browser sends one) must be this host, and
 * with a session it must carry the session's CSRF token. The cookie is SameSite=Strict as well.
 */
async function checkCsrf(sessions: WeakMap<FastifyRequest, RequestSession>, request: FastifyRequest, reply: FastifyReply) {
  if (request.method === 'GET' || request.method === 'HEAD') return;
  const origin = request.headers.origin;
  if (origin !== undefined && hostOf(origin) !== request.host.toLowerCase()) return refuse(reply, 'cross-site request refused');
  if (request.headers['sec-fetch-site'] === 'cross-site') return refuse(reply, 'cross-site request refused');
  const found = sessions.get(request);
  if (found === undefined) return; // only the login form gets here without a session (the gate refused the rest)
  const body = request.body as Record<string, unknown> | undefined;
  const presented = body?._csrf ?? request.headers['x-csrf-token'];
  if (!found.signer.checkCsrf(found.session, presented)) return refuse(reply, 'missing or wrong CSRF token: reload the page and try again');
}

function refuse(reply: FastifyReply, message: string) {
  return reply.code(403).type('text/plain; charset=utf-8').send(message);
}

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return null;
  }
}
