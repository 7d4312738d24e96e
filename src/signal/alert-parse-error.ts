/**
 * Why an alert body was refused. The message is one line and safe to log or send back:
 * it never holds the value of a secret field (see SECRET_FIELDS).
 */
export class AlertParseError extends Error {
  override name = 'AlertParseError';
}

/** Fields whose values are secrets: never echo them in a message. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['key', 'relay_secret']);

const MAX_ECHO = 40;
// JSON.stringify escapes C0 controls, quotes and backslashes. It leaves alone DEL, C1 controls,
// line/paragraph separators and invisible format characters (BOM, zero-width, bidi overrides)
// that would make a log line misleading.
const UNESCAPED_BY_JSON = /[\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/** Quotes a (non-secret) value for a message: at most 40 characters, one line, controls escaped. */
export function quoteForMessage(value: string): string {
  const chars = Array.from(value);
  const shown = chars.length > MAX_ECHO ? `${chars.slice(0, MAX_ECHO).join('')}…` : value;
  return JSON.stringify(shown).replace(UNESCAPED_BY_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
