// CrossTrade's `key=value;` syntax as the simulator reads it (docs/external-systems.md §2.2): pairs end with `;`,
// names are case-insensitive, values are trimmed. Kept apart from signal/parse-alert.ts on purpose:
// the simulator plays the other side and must not share the relay's parsing mistakes.

/** Field names lower-cased; the first occurrence of a name wins; pieces without `=` are ignored. */
export function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const piece of text.split(';')) {
    const eq = piece.indexOf('=');
    if (eq === -1) continue;
    const name = piece.slice(0, eq).trim().toLowerCase();
    if (name === '' || fields.has(name)) continue;
    fields.set(name, piece.slice(eq + 1).trim());
  }
  return fields;
}
