import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { instrumentKey } from '../../signal/instrument.js';
import type { Logger } from '../../log/logger.js';
import { limitWithin } from '../../store/limit-within.js';
import type { LimitRule, Store } from '../../store/store.js';
import { unmapIPv4 } from '../../config/address-list.js';
import { recordAdminAction } from '../../relay/record-admin-action.js';
import { hashRelaySecret } from '../../relay/relay-secret.js';
import { checkAdminToken } from '../check-admin-token.js';
import { clearPositionSchema, firstIssue, logsQuerySchema, newUserSchema, positionsQuerySchema, relayUserSchema, webhookUrlWarning } from '../schemas.js';
import { logView, positionView, userView } from '../views.js';

export const ADMIN_FAILURES_ALLOWED = 10;
/**
 * Guessing the token is slowed to a halt: after 10 failures in 15 minutes an address is refused
 * until the window ends, even with the right token; a success clears its failures. Counted in the
 * store, so on PostgreSQL by every instance together (failures on one lock the address out of all).
 */
export const ADMIN_LOCKOUT: { name: string; rule: LimitRule } = {
  name: 'admin-failures',
  rule: { kind: 'window', limit: ADMIN_FAILURES_ALLOWED, windowMs: 15 * 60_000 },
};
const LOCKOUT_UNANSWERED = 'the admin lockout cannot be checked (the database did not answer): try again shortly';

export interface AdminOptions {
  store: Store;
  logger: Logger;
  /** The token in effect, read at each request (a rotated one works at once). */
  adminToken: () => string | null | undefined | Promise<string | null | undefined>;
  now: () => number;
}

/** The management API: every route requires `Authorization: Bearer <RELAY_ADMIN_TOKEN>`. */
export function registerAdminRoutes(app: FastifyInstance, options: AdminOptions): void {
  const { store } = options;

  const { name, rule } = ADMIN_LOCKOUT;
  /** The lockout fails closed: a check the database cannot answer in time refuses the request (503). */
  const unanswered = (reply: FastifyReply, error: unknown, url: string, source: string) => {
    options.logger.error({ err: error, url, source }, 'admin request refused: the admin lockout could not be checked');
    return reply.code(503).send({ error: LOCKOUT_UNANSWERED });
  };

  const by = (request: FastifyRequest) => ({ via: 'through the management API' as const, source: unmapIPv4(request.ip), time: options.now() });

  app.register(async (admin) => {
    admin.addHook('onRequest', async (request, reply) => {
      const source = unmapIPv4(request.ip);
      const check = checkAdminToken(request.headers.authorization, (await options.adminToken()) ?? undefined);
      // A failure is counted before it is answered, in one atomic step: guesses sent all at once
      // are each counted, and none past the tenth is answered as anything but locked out.
      const answer = await limitWithin(
        check === 'ok' ? store.limitReached(name, source, rule, options.now()) : store.takeLimit(name, source, rule, options.now()),
      );
      if ('error' in answer) return unanswered(reply, answer.error, request.url, source);
      if (!answer.value.allowed) {
        options.logger.warn({ url: request.url, source }, 'admin request refused: too many failed attempts');
        return reply.code(429).send({ error: 'too many failed admin attempts from this address: try again in 15 minutes' });
      }
      if (check === 'ok') {
        // Only when there is something to clear: a success costs no write.
        if (answer.value.used > 0) {
          const reset = await limitWithin(store.resetLimit(name, source));
          if ('error' in reset) options.logger.warn({ err: reset.error, source }, 'the failed admin attempts of this address could not be cleared');
        }
        return;
      }
      options.logger.warn({ url: request.url, check, source }, 'admin request refused');
      const error =
        check === 'closed'
          ? 'the management API is closed: no admin token is set (see `npx trade-relay admin-token`)'
          : check === 'missing'
            ? 'missing admin token: send Authorization: Bearer <RELAY_ADMIN_TOKEN>'
            : 'wrong admin token';
      return reply.code(401).send({ error });
    });

    admin.get('/positions', async (request, reply) => {
      const query = parse(positionsQuerySchema, request.query, reply);
      if (!query) return reply;
      return { positions: (await store.listPositions(query.relay_user)).map(positionView) };
    });

    admin.post('/positions/clear', async (request, reply) => {
      const body = parse(clearPositionSchema, request.body, reply);
      if (!body) return reply;
      const key = instrumentKey(body.instrument, new Date(options.now()).getUTCFullYear()) ?? body.instrument.toUpperCase();
      const cleared = await store.clearPosition({ relayUser: body.relay_user, account: body.account, instrumentKey: key });
      if (!cleared) return reply.code(404).send({ error: `no position for ${body.relay_user} / ${body.account} / ${body.instrument}` });
      options.logger.info({ relay_user: body.relay_user, account: body.account, instrument: key }, 'position cleared by admin');
      await recordAdminAction(store, { action: 'position cleared', relayUser: body.relay_user, account: body.account, instrument: key, ...by(request) });
      return { cleared: true, relay_user: body.relay_user, account: body.account, instrument: key };
    });

    admin.get('/logs', async (request, reply) => {
      const query = parse(logsQuerySchema, request.query, reply);
      if (!query) return reply;
      return { logs: (await store.listLogs({ relayUser: query.relay_user, limit: query.limit })).map(logView) };
    });

    admin.get('/users', async () => ({ users: (await store.listUsers()).map(userView) }));

    admin.post('/users', async (request, reply) => {
      const body = parse(newUserSchema, request.body, reply);
      if (!body) return reply;
      const outcome = await store.saveUser({
        relayUser: body.relay_user,
        crosstradeKey: body.crosstrade_key,
        webhookUrl: body.webhook_url,
        relaySecret: body.relay_secret === undefined ? null : hashRelaySecret(body.relay_secret),
        paper: body.paper === true,
      });
      options.logger.info({ relay_user: body.relay_user, outcome }, 'user saved by admin');
      await recordAdminAction(store, { action: `user ${outcome}`, relayUser: body.relay_user, ...by(request) });
      const user = await store.getUser(body.relay_user);
      // Accepted, but said: orders to a host that is not CrossTrade's are most likely a pasted mistake.
      const warning = webhookUrlWarning(body.webhook_url);
      return reply
        .code(outcome === 'created' ? 201 : 200)
        .send({ [outcome]: true, user: user ? userView(user) : null, ...(warning === null ? {} : { warning }) });
    });

    admin.delete<{ Params: { relay_user: string } }>('/users/:relay_user', async (request, reply) => {
      const name = relayUserSchema.safeParse(request.params.relay_user);
      if (!name.success) return reply.code(400).send({ error: firstIssue(name.error) });
      if (!(await store.removeUser(name.data))) return reply.code(404).send({ error: `unknown relay_user "${name.data}"` });
      options.logger.info({ relay_user: name.data }, 'user removed by admin');
      await recordAdminAction(store, { action: 'user removed', relayUser: name.data, ...by(request) });
      return { removed: true, relay_user: name.data };
    });
  });
}

function parse<S extends z.ZodType>(schema: S, value: unknown, reply: FastifyReply): z.infer<S> | null {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  void reply.code(400).send({ error: firstIssue(result.error) });
  return null;
}

export type { FastifyRequest };
