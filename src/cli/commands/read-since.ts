import { CliError } from './cli-error.js';

const AGO = /^(\d{1,6})\s*(m|min|h|d)$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const UNIT_MS: Record<string, number> = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since` of `trade-relay logs`: `30m`, `2h`, `7d` ago, `today` / `yesterday` from midnight, or an ISO
 * date or date-time. Midnights and times without an offset are local, or UTC with `utc`; a time
 * with `Z` or an offset is taken as written. Answers ms since the epoch.
 */
export function readSince(text: string, now: number, utc: boolean): number {
  const value = text.trim();
  const ago = AGO.exec(value);
  if (ago) return now - Number(ago[1]) * (UNIT_MS[ago[2]!.toLowerCase()] ?? 0);
  if (/^(today|yesterday)$/i.test(value)) {
    const day = new Date(now);
    const back = value.toLowerCase() === 'yesterday' ? 1 : 0;
    return utc
      ? Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - back)
      : new Date(day.getFullYear(), day.getMonth(), day.getDate() - back).getTime();
  }
  const parts = DATE.exec(value) ?? DATE_TIME.exec(value);
  if (parts) {
    const [year, month, date, hours = 0, minutes = 0, seconds = 0] = parts.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
    const at = utc ? Date.UTC(year!, month! - 1, date, hours, minutes, seconds) : new Date(year!, month! - 1, date, hours, minutes, seconds).getTime();
    if (validParts(new Date(at), utc, [year!, month!, date!, hours, minutes, seconds])) return at;
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    const at = Date.parse(value);
    if (Number.isFinite(at)) return at;
  }
  throw new CliError(
    `--since ${JSON.stringify(text)} is not a time: use 30m, 2h or 7d (ago), today, yesterday, a date (2026-01-05) or a date and time (2026-01-05T14:30)`,
  );
}

/** `2026-01-05 09:30:02`, local or UTC: what a trader compares with the clock and NinjaTrader's log. */
export function formatLogTime(ms: number, utc: boolean): string {
  const d = new Date(ms);
  const [year, month, day, hours, minutes, seconds] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${year}-${two(month)}-${two(day)} ${two(hours)}:${two(minutes)}:${two(seconds)}`;
}

/** The name of the time zone `formatLogTime` shows, for the column header. */
export function timeZoneName(utc: boolean): string {
  if (utc) return 'UTC';
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local';
}

/** Rejects 2026-02-30 and 25:00, which Date would roll over silently. */
function validParts(d: Date, utc: boolean, parts: number[]): boolean {
  const read = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  // A local time skipped by a daylight-saving change reads an hour later: accept it.
  return read.slice(0, 3).every((n, i) => n === parts[i]) && read[4] === parts[4] && read[5] === parts[5];
}
