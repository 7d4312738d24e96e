import type { FastifyInstance } from 'fastify';
import { checkAdminToken } from '../http/check-admin-token.js';
import type { ConsoleContext } from './console-context.js';
import { SESSION_COOKIE } from './session-cookie.js';
import { refuseLockedOut } from './refuse-locked-out.js';

const CLOSED = 'The console is closed: no admin token is set (see `npx trade-relay admin-token`).';

/** GET/POST /console/login and POST /console/logout. */
export function registerAuthRoutes(app: FastifyInstance, context: ConsoleContext): void {
  app.get('/console/login', async (request, reply) => {
    if (context.sessionOf(request) !== null) return reply.redirect('/', 303);
    const closed = (await context.adminToken()) === null;
    const notice = (request.query as { out?: string }).out === '1' ? 'Logged out.' : null;
    return context.page(request, reply, 'login', { title: 'Log in', notice, error: closed ? CLOSED : null });
  });

  app.post('/console/login', async (request, reply) => {
    const source = context.sourceOf(request);
    const token = await context.adminToken();
    if (token === null) return context.page(request, reply, 'login', { title: 'Log in', error: CLOSED }, 403);
    const presented = (request.body as { token?: unknown } | undefined)?.token;
    const check = typeof presented === 'string' && !/\s/.test(presented) ? checkAdminToken(`Bearer ${presented}`, token) : 'wrong';
    // The same count as a failed management API call, taken before the answer: guesses sent at
    // once are each counted, and none past the tenth (not even the right one) is let in.
    const locked = check === 'ok' ? await context.failures.isBlocked(source) : !(await context.failures.take(source));
    if (locked) {
      context.logger.warn({ source }, 'console login refused: too many failed attempts');
      return refuseLockedOut(reply);
    }
    if (check !== 'ok') {
      context.logger.warn({ source }, 'console login refused: wrong admin token');
      return context.page(request, reply, 'login', { title: 'Log in', error: 'Wrong admin token.' }, 401);
    }
    const signer = (await context.signer())!;
    const { value } = signer.issue(context.now(), SESSION_COOKIE.ttlMs);
    context.logger.info({ source }, 'console login');
    return reply
      .setCookie(SESSION_COOKIE.name, value, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        maxAge: SESSION_COOKIE.ttlMs / 1000,
      })
      .redirect('/', 303);
  });

  app.post('/console/logout', async (request, reply) => {
    // Ended in the store too: a copy of the cookie (the gate let only a session in here) is refused from now on.
    const session = context.sessionOf(request);
    if (session !== null) await context.loggedOut.add(session);
    context.logger.info({ source: context.sourceOf(request) }, 'console logout');
    return reply
      .clearCookie(SESSION_COOKIE.name, { path: '/', httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https' })
      .redirect('/console/login?out=1', 303);
  });
}
