import type { Command } from 'commander';
import { withExplanation } from '../../crosstrade/explain-reason.js';
import { logView } from '../../http/views.js';
import type { LogDecision, LogQuery } from '../../store/store.js';
import { checkName } from './check-name.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { formatTable } from './format-table.js';
import { integerOption } from './integer-option.js';
import { formatLogTime, readSince, timeZoneName } from './read-since.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';

/** Every decision a row can hold, in the order the count line shows them. */
const DECISIONS: readonly LogDecision[] = ['forwarded', 'blocked', 'dropped', 'rejected', 'failed', 'unknown', 'pending', 'admin'];

interface LogsOptions {
  limit: number;
  json?: boolean;
  home?: string;
  db?: string;
  since?: string;
  decision?: string;
  relayId?: string;
  utc?: boolean;
  alert?: boolean;
}

export function registerLogs(program: Command, io: CliIo): void {
  program
    .command('logs')
    .description('show the signal log, newest first, and a count per decision')
    .argument('[relay_user]', 'only this user')
    .option('--since <when>', 'only entries since: 30m, 2h, 7d (ago), today, yesterday, 2026-01-05 or 2026-01-05T14:30')
    .option('--decision <list>', `only these decisions, comma-separated: ${DECISIONS.join(', ')}`)
    .option('--relay-id <relay_id>', 'only this strategy')
    .option('--alert', 'show under each line the alert as received, its secrets removed')
    .option('--utc', 'show and read times in UTC (default: this computer’s time zone)')
    .option('--limit <n>', 'how many rows, 1-10000', integerOption('--limit', 1, 10_000), 50)
    .option('--json', 'print JSON {"logs": [...]} (times in UTC, ISO 8601)')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (name: string | undefined, options: LogsOptions) => {
      const utc = options.utc === true;
      const query: LogQuery = {
        relayUser: name === undefined ? undefined : checkName(name),
        relayId: options.relayId?.trim(),
        decisions: options.decision === undefined ? undefined : readDecisions(options.decision),
        since: options.since === undefined ? undefined : readSince(options.since, Date.now(), utc),
      };
      const { rows, counts } = await withStore(options, async (store) => ({
        rows: await store.listLogs({ ...query, limit: options.limit }),
        counts: options.json ? {} : await store.countLogs(query),
      }));
      if (options.json) return io.out(JSON.stringify({ logs: rows.map(logView) }, null, 2));
      if (rows.length === 0) return io.out('no log entries');
      const table = rows.map((l) =>
        [formatLogTime(l.time, utc), l.decision, l.signalType, l.relayUser, l.relayId, l.account, l.instrument, withExplanation(l.reason)].map(
          (cell) => cell ?? '-',
        ),
      );
      const [header, ...lines] = formatTable(
        [`time (${timeZoneName(utc)})`, 'decision', 'signal_type', 'relay_user', 'relay_id', 'account', 'instrument', 'reason'],
        table,
      );
      io.out(header ?? '');
      lines.forEach((line, i) => {
        io.out(line);
        if (options.alert) io.out(`    ${(rows[i]?.alert ?? '').replace(/\r\n|\r|\n/g, '\n    ')}`);
      });
      io.out(countLine(counts, rows.length));
    });
}

/** `12 entries: 8 forwarded, 3 blocked, 1 rejected`, and how many of them the table shows when not all. */
function countLine(counts: Partial<Record<LogDecision, number>>, shown: number): string {
  const total = DECISIONS.reduce((sum, decision) => sum + (counts[decision] ?? 0), 0);
  const parts = DECISIONS.flatMap((decision) => (counts[decision] ? [`${counts[decision]} ${decision}`] : []));
  const more = shown < total ? ` (the newest ${shown} shown: --limit for more)` : '';
  return `${total} ${total === 1 ? 'entry' : 'entries'}: ${parts.join(', ')}${more}`;
}

function readDecisions(text: string): LogDecision[] {
  const names = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const unknown = names.find((name) => !DECISIONS.includes(name as LogDecision));
  if (names.length === 0 || unknown !== undefined) {
    throw new CliError(`--decision ${JSON.stringify(unknown ?? text)} is not a decision: use ${DECISIONS.join(', ')} (comma-separated for several)`);
  }
  return names as LogDecision[];
}
