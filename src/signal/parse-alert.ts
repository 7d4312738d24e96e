import { AlertParseError, findSecretAssignment, quoteForMessage } from './alert-parse-error.js';

export interface AlertField {
  /** As written, trimmed. */
  name: string;
  /** Lower-cased name: CrossTrade normalises field names, so their case means nothing (docs/external-systems.md §2.2). */
  key: string;
  /** Everything after the first `=`, trimmed. */
  value: string;
  /**
   * `[start, end)` in the text: from the field's first character through its terminator and the
   * separators and whitespace after it, up to the next field or the end. The spans of all fields
   * tile the text from the first field on, so a field can be cut out byte-faithfully.
   */
  start: number;
  end: number;
}

export interface ParsedAlert {
  text: string;
  fields: AlertField[];
}

const MAX_FIELDS = 100;
const MAX_NAME_LENGTH = 64;
const MAX_VALUE_LENGTH = 1024;
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
// These match NAME_PATTERN but would be poison as keys of a plain object downstream.
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
// C0 controls except TAB, LF and CR; DEL; C1 controls.
const CONTROL_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /\p{Cs}/u;
const REPLACEMENT_CHAR = '\uFFFD';
const PLACEHOLDER_OPEN = '{{';
// A secret field's name (no `=` needed): `key` as a whole word, `relay_secret` anywhere, as in
// findSecretAssignment.
const SECRET_NAME = /(?<![A-Za-z0-9_])key(?![A-Za-z0-9_])|relay_secret/i;

interface Segment {
  start: number; // first non-blank character
  end: number; // after the last non-blank character, before the separator
}

/**
 * Parses a TradingView/CrossTrade `key=value;` message (docs/external-systems.md §2.2). Fields are separated by `;`
 * and/or line breaks; names are case-insensitive; a value is everything after the first `=`.
 * A value holding `key=` or `relay_secret=` (a secret that lost its `;`, see
 * findSecretAssignment) is refused before anything else is read from the fields, so that neither
 * a message nor a kept field can carry the secret.
 * @throws AlertParseError with a one-line reason.
 */
export function parseAlertText(text: string): ParsedAlert {
  assertCleanText(text);
  const segments = splitSegments(text);
  if (segments.length === 0) {
    throw new AlertParseError('alert has no fields');
  }
  assertNoSecretInValue(text, segments);
  assertNoPlaceholder(text, segments);

  const seen = new Set<string>();
  const fields = segments.map((segment, index): AlertField => {
    const next = segments[index + 1];
    const field = readField(text, segment, index + 1, next === undefined ? text.length : next.start);
    if (seen.has(field.key)) {
      throw new AlertParseError(`field ${field.key} appears more than once`);
    }
    seen.add(field.key);
    return field;
  });
  return { text, fields };
}

/**
 * Parses a JSON alert body (an object of fields) by rendering it as `name=value;` text and
 * parsing that, so the same rules apply to both forms.
 * @throws AlertParseError with a one-line reason.
 */
export function parseAlertJson(value: unknown): ParsedAlert {
  if (!isPlainObject(value)) {
    throw new AlertParseError('alert JSON must be an object of fields');
  }
  // Object.entries, never assignment: a JSON `__proto__` key is an own entry here and the
  // name rule rejects it.
  const parts = Object.entries(value).map(([name, fieldValue], index) => {
    // Checked before rendering: a name holding `=` or `;` would re-split into other fields.
    assertFieldName(name, index + 1);
    return `${name}=${renderJsonValue(name, fieldValue)};`;
  });
  return parseAlertText(parts.join(' '));
}

/** The value of the field with this lower-case key, or undefined when absent. */
export function fieldValue(alert: ParsedAlert, key: string): string | undefined {
  return alert.fields.find((field) => field.key === key)?.value;
}

function assertCleanText(text: string): void {
  if (text.trim() === '') {
    throw new AlertParseError('alert is empty');
  }
  const control = CONTROL_CHAR.exec(text);
  if (control !== null) {
    throw new AlertParseError(`alert contains control character ${codePointName(control[0])} at position ${control.index}`);
  }
  if (text.includes(REPLACEMENT_CHAR)) {
    throw new AlertParseError('alert contains U+FFFD: the body was not valid UTF-8');
  }
  // Only possible through JSON escapes; it could not be forwarded as UTF-8 unchanged.
  if (LONE_SURROGATE.test(text)) {
    throw new AlertParseError('alert contains an unpaired surrogate: the body is not valid Unicode');
  }
}

/** Splits on `;`, LF and CR (so CRLF works), trims spaces and tabs, skips empty segments. */
function splitSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let from = 0;
  while (from <= text.length) {
    let to = from;
    while (to < text.length && !isSeparator(text.charCodeAt(to))) to++;
    let start = from;
    let end = to;
    while (start < end && isBlank(text.charCodeAt(start))) start++;
    while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
    if (start < end) {
      if (segments.length === MAX_FIELDS) {
        throw new AlertParseError(`alert has more than ${MAX_FIELDS} fields`);
      }
      segments.push({ start, end });
    }
    from = to + 1;
  }
  return segments;
}

// An unsubstituted or misspelt placeholder means the alert is not what the user meant to send
// (docs/external-systems.md §1.4). Checked before field syntax: a lone `{{strategy.order.alert_message}}` line would
// otherwise be reported as a field without '='. The placeholder is quoted unless a secret could be
// in the quote: after `key=`/`relay_secret=`, or with a secret field's name anywhere before the
// end of the quote (`relay_secret {{ = hunter2`).
function assertNoPlaceholder(text: string, segments: readonly Segment[]): void {
  const at = text.indexOf(PLACEHOLDER_OPEN);
  if (at === -1) return;
  const index = segments.findIndex((candidate) => candidate.start <= at && at < candidate.end);
  const segment = segments[index];
  const start = segment?.start ?? at;
  const end = segment?.end ?? text.length;
  const secret = findSecretAssignment(text.slice(start, at));
  if (secret !== null) {
    throw new AlertParseError(`alert still contains a TradingView placeholder in field ${secret.name}: check the alert message`);
  }
  const close = text.indexOf('}}', at);
  const placeholderEnd = close !== -1 && close < end ? close + 2 : end;
  if (SECRET_NAME.test(text.slice(start, placeholderEnd))) {
    throw new AlertParseError(
      `alert still contains a TradingView placeholder in field ${fieldLabel(text.slice(start, end), index + 1)}: check the alert message`,
    );
  }
  throw new AlertParseError(`alert still contains a TradingView placeholder ${quoteForMessage(text.slice(at, placeholderEnd))}: check the alert message`);
}

// A `key=`/`relay_secret=` inside a value is a secret whose field lost its `;` (`market_position=long
// relay_secret=hunter2;`): read as it stands, the secret would be echoed in a reason, or forwarded
// and stored inside the other field. Refused, naming the field that holds it, never its value.
function assertNoSecretInValue(text: string, segments: readonly Segment[]): void {
  segments.forEach((segment, index) => {
    const body = text.slice(segment.start, segment.end);
    const equals = body.indexOf('=');
    if (equals === -1) return;
    const secret = findSecretAssignment(body.slice(equals + 1));
    if (secret !== null) {
      throw new AlertParseError(`field ${fieldLabel(body, index + 1)} has ${secret.name}= in its value: a ';' is missing before ${secret.name}`);
    }
  });
}

/** How a message names a field: its lower-case name when that is a valid name, else its number. */
function fieldLabel(body: string, number: number): string {
  const equals = body.indexOf('=');
  const name = equals === -1 ? '' : trimBlanks(body.slice(0, equals));
  return name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name) ? name.toLowerCase() : String(number);
}

function readField(text: string, segment: Segment, number: number, spanEnd: number): AlertField {
  const body = text.slice(segment.start, segment.end);
  const equals = body.indexOf('=');
  if (equals === -1) {
    throw new AlertParseError(`field ${number} has no '='`);
  }
  const name = trimBlanks(body.slice(0, equals));
  const value = trimBlanks(body.slice(equals + 1));
  assertFieldName(name, number);
  const key = name.toLowerCase();
  if (value.length > MAX_VALUE_LENGTH) {
    throw new AlertParseError(`field ${key} has a value longer than ${MAX_VALUE_LENGTH} characters`);
  }
  return { name, key, value, start: segment.start, end: spanEnd };
}

function assertFieldName(name: string, number: number): void {
  if (name === '') {
    throw new AlertParseError(`field ${number} has an empty name`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new AlertParseError(`field ${number} has a name longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (!NAME_PATTERN.test(name)) {
    throw new AlertParseError(
      // Never echo the name: text before a stray '=' may be a secret (`relay_secret hunter2=x`).
      `field ${number} has an invalid name: use letters, digits and _, not starting with a digit`,
    );
  }
  // Keys are lower-cased later, so __PROTO__ is as reserved as __proto__.
  if (RESERVED_NAMES.has(name.toLowerCase())) {
    throw new AlertParseError(`field ${number} has a reserved name "${name.toLowerCase()}"`);
  }
}

function renderJsonValue(name: string, value: unknown): string {
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
    return String(value);
  }
  if (typeof value !== 'string') {
    throw new AlertParseError(`field ${quoteForMessage(name)} must be a string, a finite number or a boolean`);
  }
  // A separator inside a JSON value would silently split it into other fields.
  if (/[;\r\n]/.test(value)) {
    throw new AlertParseError(`field ${quoteForMessage(name)} must not contain ';' or a line break`);
  }
  // Rendered, this would be refused as a missing ';'; in JSON the secret was put inside a string.
  const secret = findSecretAssignment(value);
  if (secret !== null) {
    throw new AlertParseError(`field ${quoteForMessage(name)} has ${secret.name}= in its value: ${secret.name} must be a field of its own`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isSeparator(code: number): boolean {
  return code === 0x3b /* ; */ || code === 0x0a || code === 0x0d;
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function trimBlanks(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isBlank(value.charCodeAt(start))) start++;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

function codePointName(char: string): string {
  return `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Parses a JSON alert body (TradingView sends `application/json` when the message is valid JSON).
 * JSON.parse keeps the last of two equal keys silently, so repeated keys are found first.
 * Never echoes the body: it may carry a key.
 */
export function parseAlertJsonText(text: string): ParsedAlert {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AlertParseError('alert is not valid JSON');
  }
  if (isPlainObject(value)) {
    const repeated = firstRepeatedTopLevelKey(text);
    if (repeated !== null) throw new AlertParseError(`field ${repeated} appears more than once`);
  }
  return parseAlertJson(value);
}

/** The first top-level key with a valid name that repeats (case-insensitively) in a valid JSON object text, or null. */
function firstRepeatedTopLevelKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      let next = end + 1;
      while (next < text.length && ' \t\r\n'.includes(text[next]!)) next++;
      if (depth === 1 && text[next] === ':') {
        const key = (JSON.parse(text.slice(i, end + 1)) as string).toLowerCase();
        // An invalid name is left to the name rule, which never echoes it: it may hold a secret
        // (`"relay_secret=hunter2"`).
        if (key.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(key)) {
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = end;
    }
  }
  return null;
}
