import type { ParsedAlert } from './parse-alert.js';

/**
 * The text to forward to CrossTrade: `key=<crosstradeKey>;` first (docs/external-systems.md §2.2: always first in
 * CrossTrade's examples), then the alert without the stripped fields and without any `key` the
 * alert carried. Kept fields keep their exact text, order and separators. Throws a plain Error
 * when the configured key could not be written as one field.
 */
export function formatForward(alert: ParsedAlert, crosstradeKey: string, stripKeys: ReadonlySet<string>): string {
  // Config should have caught this; a `;` or line break would split the key into other fields.
  if (crosstradeKey.trim() === '' || /[;\r\n]/.test(crosstradeKey)) {
    throw new Error('the CrossTrade key must be non-empty and hold no ";" or line break');
  }
  const keyField = `key=${crosstradeKey};`;
  const strip = new Set([...stripKeys, 'key']);
  // CrossTrade's syntax ends every pair with `;` (docs/external-systems.md §2.2): a field the alert ended with a
  // line break alone gets its `;`; every other byte of the kept fields stays as written.
  const rest = trimEndSeparatorBlanks(
    alert.fields
      .filter((field) => !strip.has(field.key))
      .map((field) => terminate(alert.text.slice(field.start, field.end)))
      .join(''),
  );
  if (rest === '') return keyField;
  const separator = hasLineBreakBetweenFields(alert) ? '\n' : ' ';
  return `${keyField}${separator}${rest}`;
}

function terminate(span: string): string {
  const body = trimEndSeparatorBlanks(span);
  return body.endsWith(';') ? span : `${body};${span.slice(body.length)}`;
}

/**
 * The alert text with the fields whose key is in `stripKeys` cut out, trimmed at both ends.
 * Every other byte is unchanged.
 */
export function removeFields(alert: ParsedAlert, stripKeys: ReadonlySet<string>): string {
  // Spans tile the text from the first field on, so joining the kept ones loses nothing else.
  const kept = alert.fields
    .filter((field) => !stripKeys.has(field.key))
    .map((field) => alert.text.slice(field.start, field.end))
    .join('');
  return trimEndSeparatorBlanks(kept);
}

// Not String#trimEnd: that also eats a last value's trailing no-break space, which is data.
function trimEndSeparatorBlanks(text: string): string {
  let end = text.length;
  while (end > 0 && ' \t\r\n'.includes(text.charAt(end - 1))) end--;
  return text.slice(0, end);
}

function hasLineBreakBetweenFields(alert: ParsedAlert): boolean {
  return alert.fields.slice(0, -1).some((field) => /[\r\n]/.test(alert.text.slice(field.start, field.end)));
}
