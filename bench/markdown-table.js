/**
 * A markdown table padded the way Biome formats one (`npm run lint` checks bench/RESULTS.md too):
 * every column as wide as its widest cell, `right` columns right-aligned with a `-----:` rule.
 */
export function markdownTable(header, rows, right = () => false) {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (right(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)];
}
