import fs from 'node:fs';
import type { Command } from 'commander';
import { maskDatabaseUrl } from '../../store/postgres/mask-database-url.js';
import { type CopyReport, copySqliteToPostgres, describeCounts } from '../../store/migrate/copy-sqlite-to-postgres.js';
import { COPIED_TABLES } from '../../store/migrate/copied-tables.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { HOME_HELP } from './data-options.js';
import { commandSettings } from './with-store.js';

interface MigrateDbOptions {
  from?: string;
  to?: string;
  replace?: boolean;
  home?: string;
}

/** Tables this large show their progress (on stderr), at most every PROGRESS_EVERY_MS. */
const PROGRESS_FROM_ROWS = 20_000;
const PROGRESS_EVERY_MS = 2_000;

export function registerMigrateDb(program: Command, io: CliIo): void {
  program
    .command('migrate-db')
    .description('copy this installation from its SQLite file into an empty PostgreSQL database, in one transaction (stop the relay first)')
    .option('--from <file>', 'the SQLite file (default: RELAY_DB, else <data folder>/trade_relay.db); it is only read')
    .option('--to <url>', 'the PostgreSQL database, postgres://user:password@host:5432/db (default: RELAY_DATABASE_URL)')
    .option('--replace', 'when the PostgreSQL database already holds data, delete it and copy in its place (same transaction)')
    .option('--home <dir>', HOME_HELP)
    .action(async (options: MigrateDbOptions) => {
      // Checked here so the message names --to (the settings would name --database-url), without repeating the URL.
      if (options.to !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(options.to)) {
        throw new CliError('--to must be a postgres:// (or postgresql://) URL, e.g. --to postgres://relay:password@127.0.0.1:5432/trade_relay');
      }
      const settings = commandSettings({ home: options.home, db: options.from, databaseUrl: options.to }, io.err);
      const { config } = settings;
      const from = config.dbPath;
      const to = config.databaseUrl;
      if (to === undefined) {
        throw new CliError(
          '--to is required (or RELAY_DATABASE_URL): the PostgreSQL database to copy into, e.g. --to postgres://relay:password@127.0.0.1:5432/trade_relay',
        );
      }
      if (!fs.existsSync(from))
        throw new CliError(`no SQLite database at ${from} (chosen by ${chosenBy(options, settings)}): check the path; nothing was copied`);
      io.out(`copying ${from} into ${maskDatabaseUrl(to)} ...`);
      const report = await copySqliteToPostgres({ from, to, replace: options.replace === true, onProgress: progressPrinter(io) });
      for (const line of summary(report, from)) io.out(line);
    });
}

function chosenBy(options: MigrateDbOptions, settings: ReturnType<typeof commandSettings>): string {
  if (options.from !== undefined) return '--from';
  if (!settings.dbIsDefault) return settings.sourceOf('RELAY_DB') === 'settings file' ? `RELAY_DB in ${settings.settingsFile.path}` : 'RELAY_DB';
  return `the data folder ${settings.home.dir}`;
}

/** Prints a large table's progress every few seconds, and when it is done. */
function progressPrinter(io: CliIo): (p: { label: string; copied: number; total: number }) => void {
  let last = 0;
  return ({ label, copied, total }) => {
    if (total < PROGRESS_FROM_ROWS) return;
    const now = Date.now();
    if (copied < total && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    io.err(`${label}: ${copied.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows (${Math.floor((copied / total) * 100)}%)`);
  };
}

function summary(report: CopyReport, from: string): string[] {
  const { sqlite, postgres, counts } = report;
  const lines: string[] = [];
  if (sqlite.migratedCopy) {
    lines.push(
      `the SQLite file had schema version ${sqlite.version} (this relay's is ${sqlite.current}): a temporary copy of it was brought up to date and copied; ${from} itself was left as it was`,
    );
  }
  if (!sqlite.locked) lines.push(`warning: ${from} is read-only for this user, so it could not be locked: make sure no relay was running on it`);
  if (postgres.versionBefore === 0) lines.push(`created the PostgreSQL schema (version ${postgres.version})`);
  else if (postgres.versionBefore < postgres.version)
    lines.push(`migrated the PostgreSQL schema from version ${postgres.versionBefore} to ${postgres.version}`);
  if (report.replaced !== null) lines.push(`--replace: deleted what the PostgreSQL database held (${describeCounts(report.replaced)})`);
  const width = Math.max(...COPIED_TABLES.map((t) => t.label.length));
  lines.push(`copied into ${postgres.target} in ${(report.ms / 1000).toFixed(1)} s (one transaction; every count checked before the commit):`);
  for (const table of COPIED_TABLES) {
    const ids = table.name === 'signal_log' && report.maxLogId !== null ? ` (next id ${(report.maxLogId + 1).toLocaleString('en-US')})` : '';
    lines.push(`  ${table.label.padEnd(width)}  ${counts[table.name].toLocaleString('en-US')}${ids}`);
  }
  const { pending, inFlight } = sqlite.unfinished;
  if (pending + inFlight > 0) {
    lines.push(
      `note: the relay stopped while forwarding (${pending} pending log row(s), ${inFlight} key(s) in flight): copied as they are; ` +
        'the first relay started on PostgreSQL marks them of unknown outcome, as it would have on the SQLite file',
    );
  }
  lines.push(
    'next: set RELAY_DATABASE_URL to this database (settings.env of the data folder, or --database-url) for the relays and every command; ' +
      'without it they keep using the SQLite file, which is left as it was (keep it as a backup)',
  );
  return lines;
}
