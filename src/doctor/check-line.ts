/** One line of `trade-relay doctor`'s checklist. `fix` says what to do when it is not ok. Never holds a secret. */
export interface CheckLine {
  status: 'ok' | 'warn' | 'FAIL';
  label: string;
  detail: string;
  fix?: string;
}

export const ok = (label: string, detail: string): CheckLine => ({ status: 'ok', label, detail });
export const warn = (label: string, detail: string, fix: string): CheckLine => ({ status: 'warn', label, detail, fix });
export const fail = (label: string, detail: string, fix: string): CheckLine => ({ status: 'FAIL', label, detail, fix });

/** The checklist as printed: `[ok]   label: detail`, and `       fix: ...` under a line that is not ok. */
export function formatChecklist(lines: readonly CheckLine[]): string[] {
  return lines.flatMap((line) => {
    const head = `${`[${line.status}]`.padEnd(7)}${line.label}: ${line.detail}`;
    return line.fix === undefined || line.status === 'ok' ? [head] : [head, `       fix: ${line.fix}`];
  });
}
