import { z } from 'zod';
import { isLoopbackHost } from '../config/is-loopback-host.js';

export const RELAY_NAME_PATTERN = /^[A-Za-z0-9_.@:-]{1,64}$/;

export const relayUserSchema = z.string().regex(RELAY_NAME_PATTERN, 'relay_user must be 1-64 letters, digits or _.@:-');

/** The key is injected as `key=<value>;`: a `;`, `=`, space or line break in it would corrupt the payload. */
export const crosstradeKeySchema = z
  .string()
  .min(8, 'crosstrade_key must be at least 8 characters')
  .max(256, 'crosstrade_key must be at most 256 characters')
  .regex(/^[^\s;=]+$/, 'crosstrade_key must not contain spaces, ";" or "="');

/** CrossTrade's webhook host (docs/external-systems.md §2.1: https://app.crosstrade.io/v1/send/...). */
export const CROSSTRADE_WEBHOOK_HOST = 'app.crosstrade.io';
const WEBHOOK_EXAMPLE = 'https://app.crosstrade.io/v1/send/...';

/**
 * The webhook URL rule, shared by `add-user` and POST /users (issue 8, case 10): why the URL is
 * refused, or null when it is accepted. https is required (the URL and the body carry the key);
 * plain http only to a loopback host (the simulator); a URL without a path is not a CrossTrade
 * webhook (the path is what names the user). The reason never quotes the URL: its path is a secret.
 */
export function webhookUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `webhook_url must be a URL, e.g. ${WEBHOOK_EXAMPLE}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `webhook_url must be an https URL, e.g. ${WEBHOOK_EXAMPLE}`;
  if (url.hostname === '') return `webhook_url has no host, e.g. ${WEBHOOK_EXAMPLE}`;
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return `webhook_url must use https (plain http only for a simulator on this machine): the order and the CrossTrade key would cross the internet in clear, e.g. ${WEBHOOK_EXAMPLE}`;
  }
  if (url.pathname === '/' || url.pathname === '') {
    return `webhook_url has no path: copy the whole webhook URL from CrossTrade, e.g. ${WEBHOOK_EXAMPLE}`;
  }
  return null;
}

/** A warning for an accepted URL whose host is not CrossTrade's (nor a local simulator); null otherwise. */
export function webhookUrlWarning(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.hostname.toLowerCase() === CROSSTRADE_WEBHOOK_HOST || isLoopbackHost(url.hostname)) return null;
  return `the webhook URL's host ${url.hostname} is not CrossTrade's (${CROSSTRADE_WEBHOOK_HOST}): orders will go there; check that you copied the CrossTrade webhook URL`;
}

export const webhookUrlSchema = z
  .string()
  .max(2048, 'webhook_url is too long')
  .superRefine((value, ctx) => {
    const problem = webhookUrlProblem(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The passphrase alerts must carry as `relay_secret=...;`: the same syntax limits as the key. */
export const relaySecretSchema = z
  .string()
  .min(8, 'relay_secret must be at least 8 characters')
  .max(256, 'relay_secret must be at most 256 characters')
  .regex(/^[^\s;=]+$/, 'relay_secret must not contain spaces, ";" or "="');

export const newUserSchema = z.object({
  relay_user: relayUserSchema,
  crosstrade_key: crosstradeKeySchema,
  webhook_url: webhookUrlSchema,
  relay_secret: relaySecretSchema.optional(),
  /** Paper mode: orders go to the relay's paper book, never to CrossTrade. */
  paper: z.custom<boolean>((value) => typeof value === 'boolean', 'paper must be true or false').optional(),
});

export const clearPositionSchema = z.object({
  relay_user: relayUserSchema,
  account: z.string().trim().min(1, 'account is required').max(128),
  instrument: z.string().trim().min(1, 'instrument is required').max(64),
});

export const logsQuerySchema = z.object({
  relay_user: relayUserSchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});

export const positionsQuerySchema = z.object({ relay_user: relayUserSchema.optional() });

/** The first problem of a zod error, as a one-line reason. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const field = issue.path.join('.');
  return issue.code === 'invalid_type' && field !== '' ? `${field} is required (${issue.message})` : issue.message;
}
