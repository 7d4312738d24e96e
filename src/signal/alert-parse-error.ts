/**
 * Why an alert body was refused. The message is one line and safe to log or send back:
 * it never holds the value of a secret field (see SECRET_FIELDS), not even one that lost its
 * separator and ended up inside another field's value (see findSecretAssignment).
 */
export class AlertParseError extends Error {
  override name = 'AlertParseError';
}

/** Fields whose values are secrets: never echo them in a message. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['key', 'relay_secret']);

/**
 * A secret field's name followed by optional blanks and `=`, case-insensitive: where a secret value
 * starts. `key` only as a whole word (not after a letter, digit or _), so that `monkey=`, `hotkey=`
 * or `api_key=` text is not taken for it. `relay_secret` anywhere: no CrossTrade field or ordinary
 * word ends in it, so it is also found glued straight to the value before it (`longrelay_secret=`).
 * Consequence: a `key=` glued with no separator at all to a letter, digit or _ (`tif=DAYkey=...`)
 * cannot be told from `hotkey=` and is not found.
 */
const SECRET_ASSIGNMENT = /(?<![A-Za-z0-9_])key[ \t]*=|relay_secret[ \t]*=/i;

export interface SecretAssignment {
  /** The secret field's name, lower-case: `key` or `relay_secret`. */
  name: string;
  /** Where the name starts in the text searched. */
  index: number;
  /** Just after the `=`: the secret value starts here. */
  valueStart: number;
}

/** The first place a secret field is assigned in `text` (see SECRET_ASSIGNMENT), or null. */
export function findSecretAssignment(text: string): SecretAssignment | null {
  const match = SECRET_ASSIGNMENT.exec(text);
  if (match === null) return null;
  const name = match[0].toLowerCase().startsWith('key') ? 'key' : 'relay_secret';
  return { name, index: match.index, valueStart: match.index + match[0].length };
}

const MAX_ECHO = 40;
// JSON.stringify escapes C0 controls, quotes and backslashes. It leaves alone DEL, C1 controls,
// line/paragraph separators and invisible format characters (BOM, zero-width, bidi overrides)
// that would make a log line misleading.
const UNESCAPED_BY_JSON = /[\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

/**
 * Quotes a (non-secret) value for a message: at most 40 characters, one line, controls escaped.
 * A backstop for a secret that lost its separator: the value is cut just after the first
 * `key=` / `relay_secret=` in it (see findSecretAssignment), so what follows is never shown.
 */
export function quoteForMessage(value: string): string {
  const secret = findSecretAssignment(value);
  const safe = secret === null ? value : value.slice(0, secret.valueStart);
  const chars = Array.from(safe);
  const cut = chars.length > MAX_ECHO || secret !== null;
  const shown = cut ? `${chars.slice(0, MAX_ECHO).join('')}…` : safe;
  return JSON.stringify(shown).replace(UNESCAPED_BY_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
