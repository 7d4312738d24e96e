import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clearPositionSchema, firstIssue, newUserSchema, relayUserSchema, webhookUrlWarning } from '../http/schemas.js';
import { userView } from '../http/views.js';
import { hashRelaySecret } from '../relay/relay-secret.js';
import { instrumentKey } from '../signal/instrument.js';
import type { ConsoleContext } from './console-context.js';
import { recordAdminAction } from '../relay/record-admin-action.js';

type Form = Record<string, unknown>;

/**
 * The console's changes: save a user, remove a user, clear a position. Removing and clearing ask
 * first (a page with the confirm button; only a form carrying `confirm=yes` acts). Every change is
 * written to the signal log as an `admin` row with its source address.
 */
export function registerActionRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { store } = context;
  const text = (form: Form, name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '');

  app.post('/console/positions/clear', async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const parsed = clearPositionSchema.safeParse({
      relay_user: text(form, 'relay_user'),
      account: text(form, 'account'),
      instrument: text(form, 'instrument'),
    });
    if (!parsed.success) return reply.code(400).type('text/plain; charset=utf-8').send(firstIssue(parsed.error));
    const { relay_user: relayUser, account } = parsed.data;
    const key = instrumentKey(parsed.data.instrument, new Date(context.now()).getUTCFullYear()) ?? parsed.data.instrument.toUpperCase();
    if (text(form, 'confirm') !== 'yes') {
      return confirm(context, request, reply, {
        heading: 'Clear a position',
        question: `Clear the position of ${relayUser} on ${account} / ${key}? The relay forgets who holds it, so the next entry of any strategy may take it. Nothing is sent to CrossTrade: close the position there yourself if it is still open.`,
        action: '/console/positions/clear',
        fields: [
          ['relay_user', relayUser],
          ['account', account],
          ['instrument', key],
        ],
        button: 'Clear the position',
        back: '/',
      });
    }
    const cleared = await store.clearPosition({ relayUser, account, instrumentKey: key });
    if (!cleared) return reply.redirect('/?notice=not-cleared', 303);
    await recordAdminAction(store, {
      action: 'position cleared',
      relayUser,
      account,
      instrument: key,
      via: 'in the console',
      source: context.sourceOf(request),
      time: context.now(),
    });
    context.logger.info({ relay_user: relayUser, account, instrument: key, source: context.sourceOf(request) }, 'position cleared in the console');
    return reply.redirect('/?notice=cleared', 303);
  });

  app.post('/console/users', async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const name = relayUserSchema.safeParse(text(form, 'relay_user'));
    const existing = name.success ? await store.getUser(name.data) : null;
    // Empty fields of an existing user keep what it has: the console never shows a key or URL to edit.
    const secret = text(form, 'relay_secret');
    const parsed = newUserSchema.safeParse({
      relay_user: text(form, 'relay_user'),
      crosstrade_key: text(form, 'crosstrade_key') || existing?.crosstradeKey,
      webhook_url: text(form, 'webhook_url') || existing?.webhookUrl,
      ...(secret === '' ? {} : { relay_secret: secret }),
      paper: text(form, 'paper') === 'on',
    });
    if (!parsed.success) {
      const users = (await store.listUsers()).map(userView);
      const form = { relay_user: text((request.body ?? {}) as Form, 'relay_user').slice(0, 64), paper: text((request.body ?? {}) as Form, 'paper') === 'on' };
      return context.page(request, reply, 'users', { title: 'Users', users, form, error: firstIssue(parsed.error) }, 400);
    }
    const body = parsed.data;
    const outcome = await store.saveUser({
      relayUser: body.relay_user,
      crosstradeKey: body.crosstrade_key,
      webhookUrl: body.webhook_url,
      relaySecret: body.relay_secret === undefined ? (existing?.relaySecret ?? null) : hashRelaySecret(body.relay_secret),
      paper: body.paper === true,
    });
    await recordAdminAction(store, {
      action: `user ${outcome}`,
      relayUser: body.relay_user,
      via: 'in the console',
      source: context.sourceOf(request),
      time: context.now(),
    });
    context.logger.info({ relay_user: body.relay_user, outcome, source: context.sourceOf(request) }, 'user saved in the console');
    // Paper mode is what the box says, for an existing user too: a switch to live must not pass unnoticed.
    const switched = existing !== null && existing.paper !== (body.paper === true);
    const notice = switched ? (body.paper === true ? 'now-paper' : 'now-live') : webhookUrlWarning(body.webhook_url) === null ? outcome : 'other-host';
    return reply.redirect(`/console/users?notice=${notice}`, 303);
  });

  app.post('/console/users/remove', async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const name = relayUserSchema.safeParse(text(form, 'relay_user'));
    if (!name.success) return reply.code(400).type('text/plain; charset=utf-8').send(firstIssue(name.error));
    const relayUser = name.data;
    if (text(form, 'confirm') !== 'yes') {
      return confirm(context, request, reply, {
        heading: 'Remove a user',
        question: `Remove ${relayUser}? Its alerts will be refused, and the positions it owns are released (its signal log stays).`,
        action: '/console/users/remove',
        fields: [['relay_user', relayUser]],
        button: `Remove ${relayUser}`,
        back: '/console/users',
      });
    }
    if (!(await store.removeUser(relayUser))) return reply.redirect('/console/users?notice=not-removed', 303);
    await recordAdminAction(store, { action: 'user removed', relayUser, via: 'in the console', source: context.sourceOf(request), time: context.now() });
    context.logger.info({ relay_user: relayUser, source: context.sourceOf(request) }, 'user removed in the console');
    return reply.redirect('/console/users?notice=removed', 303);
  });
}

interface Confirmation {
  heading: string;
  question: string;
  action: string;
  fields: [string, string][];
  button: string;
  back: string;
}

function confirm(context: ConsoleContext, request: FastifyRequest, reply: FastifyReply, confirmation: Confirmation) {
  return context.page(request, reply, 'confirm', { title: confirmation.heading, ...confirmation });
}
