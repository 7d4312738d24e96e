import net from 'node:net';
import { CROSSTRADE_WEBHOOK_HOST as CROSSTRADE_HOST } from '../http/schemas.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';

/**
 * A user's CrossTrade webhook URL: https (plain http only to this machine, the simulator), a path
 * (the path is CrossTrade's per-user secret, docs/external-systems.md §2.1), CrossTrade's host. The URL is shown by its origin only.
 */
export function checkWebhookUrl(relayUser: string, webhookUrl: string): CheckLine {
  const label = `user ${relayUser}: webhook URL`;
  const fixIt = `npx trade-relay add-user --user ${relayUser} with the webhook URL CrossTrade shows (https://${CROSSTRADE_HOST}/v1/send/...)`;
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    return fail(label, 'not a URL', fixIt);
  }
  const shown = `${url.origin}/****`;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    return fail(label, `${shown} is not https: CrossTrade's webhook is https only`, fixIt);
  }
  if (url.pathname === '/' || url.pathname === '') return fail(label, `${shown} has no path: CrossTrade's webhook URL ends in /v1/send/<id>/<secret>`, fixIt);
  if (url.hostname !== CROSSTRADE_HOST) {
    return warn(label, `${shown} is not CrossTrade's host (${CROSSTRADE_HOST})`, `if this is not the simulator or your own proxy: ${fixIt}`);
  }
  return ok(label, `${shown} (https, CrossTrade)`);
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}
