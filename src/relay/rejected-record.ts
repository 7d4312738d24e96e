import { findSecretAssignment } from '../signal/alert-parse-error.js';

/** Stands in the signal log for a body that was not read or not stored: it may carry a key. */
export function rejectedRecord(reason: string, bytes: number): string {
  return `[not stored: ${reason}, ${bytes} bytes]`;
}

/** What the signal log keeps of an alert the relay could not read (issue 8, case 7). */
export interface RejectedAlert {
  /** The relay_user, when one readable value was given; the row is then listed under it. */
  relayUser: string | null;
  relayId: string | null;
  accounts: string[];
  instrument: string | null;
  /** The body with every secret removed, control characters escaped, cut at MAX_KEPT characters. */
  text: string;
}

/** Shown where a secret's value was. */
export const REMOVED = '[removed]';
/** The most of a rejected body the log keeps (the webhook takes 16 KiB). */
const MAX_KEPT = 4096;
const RELAY_NAME = /^[A-Za-z0-9_.@:-]{1,64}$/;
// A secret field's name where its value could follow: `key` as a whole word, `relay_secret` anywhere
// (as signal/parse-alert.ts SECRET_NAME; `=` not needed: `relay_secret hunter2=x` hides one too).
const SECRET_NAME = /(?<![A-Za-z0-9_])key(?![A-Za-z0-9_])|relay_secret/i;
// C0 controls except TAB, LF and CR; DEL; C1 controls; lone surrogates; line separators: never to a terminal.
const UNSAFE_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]|\p{Cs}/gu;
const UNSAFE_CHAR = new RegExp(UNSAFE_CHARS.source, 'u');

/**
 * Reads what can safely be kept of an alert that failed to parse (bad syntax, a missing relay_id, a
 * secret that lost its `;`): the relay's fields when their values are unambiguous and well formed,
 * and the text with secrets removed. A secret is everything after a `key`/`relay_secret` name up to
 * the next `;` or line break (so also one that lost its `;` inside another field, as
 * signal/alert-parse-error.ts findSecretAssignment finds it); in a JSON body, every value of such a
 * field and any string value holding `key=`. `knownSecret` gives the stored CrossTrade key of a
 * relay_user, so that a key glued to other text (`tif=DAYkey=...`, which no rule can tell from
 * `hotkey=`) is removed too.
 */
export function readRejectedAlert(body: string, knownSecret: (relayUser: string) => string | null = () => null): RejectedAlert {
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  const json = readJsonObject(text);
  const fields = json === null ? readTextFields(text) : jsonFields(json);
  let kept = json === null ? redactText(text) : JSON.stringify(redactJson(json));
  const relayUser = single(fields, 'relay_user', (v) => RELAY_NAME.test(v));
  const secret = relayUser === null ? null : knownSecret(relayUser);
  if (secret !== null && secret.length >= 8) kept = kept.split(secret).join(REMOVED);
  const safeValue = (v: string) => v.length <= 64 && !UNSAFE_CHAR.test(v) && !SECRET_NAME.test(v) && (secret === null || !v.includes(secret));
  const account = single(fields, 'account', safeValue);
  return {
    relayUser,
    relayId: single(fields, 'relay_id', (v) => RELAY_NAME.test(v)),
    accounts:
      account === null
        ? []
        : account
            .split(',')
            .map((a) => a.trim())
            .filter((a) => a !== ''),
    instrument: single(fields, 'instrument', safeValue),
    text: cut(escapeUnsafe(kept)),
  };
}

type Fields = Map<string, string[]>;

/** The value of a field given once (or always the same), when it passes `ok`. */
function single(fields: Fields, name: string, ok: (value: string) => boolean): string | null {
  const values = [...new Set(fields.get(name) ?? [])];
  const value = values.length === 1 ? values[0] : undefined;
  return value !== undefined && value !== '' && ok(value) ? value : null;
}

function readTextFields(text: string): Fields {
  const fields: Fields = new Map();
  for (const segment of text.split(/[;\r\n]/)) {
    const equals = segment.indexOf('=');
    if (equals === -1) continue;
    const name = segment.slice(0, equals).trim().toLowerCase();
    const value = segment.slice(equals + 1).trim();
    // A value holding another assignment lost its `;`: it belongs to no field for sure.
    if (findSecretAssignment(value) !== null || value.includes('=')) continue;
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  return fields;
}

function redactText(text: string): string {
  let valueNext = false;
  return text.replace(/[^;\r\n]+/g, (segment) => {
    if (segment.trim() === '') return segment;
    // A secret's name with nothing after it: its value may have slipped to the next line.
    if (valueNext) {
      valueNext = false;
      return REMOVED;
    }
    const match = SECRET_NAME.exec(segment);
    if (match === null) return segment;
    valueNext = /^[\s=]*$/.test(segment.slice(match.index + match[0].length));
    return `${segment.slice(0, match.index)}${match[0]}=${REMOVED}`;
  });
}

function readJsonObject(text: string): Record<string, unknown> | null {
  if (!text.trimStart().startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function jsonFields(object: Record<string, unknown>): Fields {
  const fields: Fields = new Map();
  for (const [name, value] of Object.entries(object)) {
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    const key = name.trim().toLowerCase();
    fields.set(key, [...(fields.get(key) ?? []), String(value).trim()]);
  }
  return fields;
}

function redactJson(value: unknown): unknown {
  if (typeof value === 'string') {
    const secret = findSecretAssignment(value);
    return secret === null ? value : `${value.slice(0, secret.valueStart)}${REMOVED}`;
  }
  if (Array.isArray(value)) return value.map(redactJson);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, inner]) => {
      const secret = SECRET_NAME.exec(name);
      // The name itself may hold the secret after it (`"relay_secret hunter2"`).
      return secret === null ? [name, redactJson(inner)] : [name.slice(0, secret.index + secret[0].length), REMOVED];
    }),
  );
}

function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_CHARS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function cut(text: string): string {
  if (text.length <= MAX_KEPT) return text;
  return `${text.slice(0, MAX_KEPT)}… [${text.length - MAX_KEPT} more characters not kept]`;
}
