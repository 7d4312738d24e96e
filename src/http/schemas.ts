import { z } from 'zod';

export const RELAY_NAME_PATTERN = /^[A-Za-z0-9_.@:-]{1,64}$/;

export const relayUserSchema = z.string().regex(RELAY_NAME_PATTERN, 'relay_user must be 1-64 letters, digits or _.@:-');

/** The key is injected as `key=<value>;`: a `;`, `=`, space or line break in it would corrupt the payload. */
export const crosstradeKeySchema = z
  .string()
  .min(8, 'crosstrade_key must be at least 8 characters')
  .max(256, 'crosstrade_key must be at most 256 characters')
  .regex(/^[^\s;=]+$/, 'crosstrade_key must not contain spaces, ";" or "="');

export const webhookUrlSchema = z
  .string()
  .max(2048, 'webhook_url is too long')
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'webhook_url must be an http(s) URL, e.g. https://app.crosstrade.io/v1/send/...');

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
