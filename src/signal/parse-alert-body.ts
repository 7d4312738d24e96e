import { AlertParseError } from './alert-parse-error.js';
import { type ParsedAlert, parseAlertJsonText, parseAlertText } from './parse-alert.js';

const BOM = '\uFEFF';
/** JSON's whitespace (RFC 8259): what may come before a JSON body's first token. */
const LEADING_JSON_WHITESPACE = /^[ \t\r\n]*/;

/**
 * Parses a /webhook body, deciding its form by the body itself, never by the declared content
 * type alone: a trailing newline, a proxy or another sender may turn a JSON alert into
 * `text/plain`, or label a `key=value;` alert `application/json`.
 *
 * - A leading UTF-8 byte order mark is dropped (it is an encoding mark, not content; JSON.parse
 *   refuses it and it would spoil the first field's name): the result's `text` is the body after it.
 * - Then, after JSON whitespace, `{` means a JSON object: parseAlertJsonText (invalid JSON there is
 *   'alert is not valid JSON'). A `key=value` alert cannot start with `{`: a field name starts with
 *   a letter or _.
 * - `[` cannot start a `key=value` alert either; it can only be a JSON array, so it goes to the JSON
 *   parser too: 'alert JSON must be an object of fields' for a valid array, 'alert is not valid JSON'
 *   for anything else.
 * - Anything else is `key=value;` text: parseAlertText.
 *
 * `declaredJson` (the body came as `application/json`) never changes how a body is read. It only
 * picks the reason when a body that is not `{`/`[`-led fails as text although it is valid JSON
 * (`42`, `true`, `null`, a JSON string): declared JSON, that is 'alert JSON must be an object of
 * fields', what the sender meant; declared text, the text reason (e.g. "field 1 has no '='").
 * @throws AlertParseError with a one-line reason that never holds a secret value.
 */
export function parseAlertBody(text: string, declaredJson: boolean): ParsedAlert {
  const body = text.startsWith(BOM) ? text.slice(BOM.length) : text;
  const first = body.charAt(LEADING_JSON_WHITESPACE.exec(body)?.[0].length ?? 0);
  if (first === '{' || first === '[') return parseAlertJsonText(body);
  try {
    return parseAlertText(body);
  } catch (error) {
    if (declaredJson && error instanceof AlertParseError && isJson(body)) {
      throw new AlertParseError('alert JSON must be an object of fields');
    }
    throw error;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
