import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../../config/config-error.js';
import { loadSettings, type Settings } from '../../config/load-settings.js';
import { checkCrossTradeApi } from '../../doctor/check-crosstrade-api.js';
import { checkDataFolder } from '../../doctor/check-data-folder.js';
import { type CheckLine, fail, formatChecklist, ok, warn } from '../../doctor/check-line.js';
import { checkPort } from '../../doctor/check-port.js';
import { checkWebhookUrl } from '../../doctor/check-webhook-url.js';
import { probeCrossTrade } from '../../doctor/probe-crosstrade.js';
import { publicAddresses } from '../../doctor/public-addresses.js';
import { ADMIN_TOKEN_SETTING, type RecordedTokenSource, readAdminTokenSource } from '../../relay/admin-token.js';
import { openStore } from '../../store/open-store.js';
import { createSqliteStore } from '../../store/sqlite/create-sqlite-store.js';
import type { Store, UserRecord } from '../../store/store.js';
import type { CliIo } from './cli-io.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';

interface DoctorOptions {
  home?: string;
  db?: string;
  databaseUrl?: string;
  port?: string;
}

/** The doctor is not inside TradingView's 3 s: it can wait for a slow answer. */
const PROBE_TIMEOUT_MS = 5000;

export function registerDoctor(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .argument('[relay_user]', 'check this user only (default: every user)')
    .description('check the setup: data folder, port, admin token, each user’s webhook URL and CrossTrade key; exits 1 when a check fails')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--port <n>', 'the port the relay runs on (RELAY_PORT, default 8080)')
    .action(async (relayUser: string | undefined, options: DoctorOptions) => {
      const lines = await runDoctor(relayUser, options);
      formatChecklist(lines).forEach(io.out);
      const failed = lines.filter((line) => line.status === 'FAIL').length;
      const warned = lines.filter((line) => line.status === 'warn').length;
      io.out(
        failed === 0
          ? `all checks passed${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`
          : `${failed} check${failed === 1 ? '' : 's'} failed`,
      );
      if (failed > 0) process.exitCode = 1;
    });
}

async function runDoctor(relayUser: string | undefined, options: DoctorOptions): Promise<CheckLine[]> {
  let settings: Settings;
  try {
    settings = loadSettings({ env: process.env, home: options.home, flags: { dbPath: options.db, databaseUrl: options.databaseUrl, port: options.port } });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One problem a line, under the check's line, as the relay itself lists them.
    const problems = error.message.replace(/\n\s*-\s*/g, '\n       - ');
    return [fail('settings', problems, 'correct the flags, variables or settings.env lines named, then run doctor again')];
  }
  const { config, home } = settings;
  const dbPath = config.dbPath;
  const lines: CheckLine[] = [
    ok('settings', `valid (${settings.settingsFile.path}${fs.existsSync(settings.settingsFile.path) ? '' : ': none, defaults'})`),
    ...(config.databaseUrl === undefined ? checkDataFolder(home, dbPath) : checkDataFolder(home, null)),
  ];
  lines.push(...(await checkPort(config.host, config.port, publicAddresses(os.networkInterfaces()), config.tlsCert !== undefined)));

  const stored = config.databaseUrl === undefined ? await readStore(dbPath, relayUser) : await readPostgres(config.databaseUrl, relayUser);
  lines.push(adminTokenLine(settings, stored));
  if ('error' in stored) {
    // A missing database is already a failed line of the data folder.
    if (stored.error !== null) lines.push(stored.error);
    return lines;
  }
  if (stored.users.length === 0) {
    lines.push(
      relayUser === undefined
        ? fail('users', 'no relay user yet: every alert would be rejected', 'npx trade-relay add-user')
        : fail('users', `no relay_user "${relayUser}"`, 'npx trade-relay list-users shows the users; npx trade-relay add-user adds one'),
    );
    return lines;
  }
  const origin = new URL(config.crosstradeApiUrl).origin;
  const perUser = await Promise.all(
    stored.users.map(async (user) => [
      checkWebhookUrl(user.relayUser, user.webhookUrl),
      ...(user.paper ? [ok(`user ${user.relayUser}: mode`, 'paper: orders go to the paper book, never to CrossTrade')] : []),
      ...checkCrossTradeApi(user.relayUser, await probeCrossTrade(config.crosstradeApiUrl, user.crosstradeKey, PROBE_TIMEOUT_MS), origin, user.paper),
    ]),
  );
  return [...lines, ...perUser.flat()];
}

type Stored = { users: UserRecord[]; storedToken: boolean; lastStart: RecordedTokenSource | null } | { error: CheckLine | null };

/** The same from PostgreSQL: a database that cannot be reached is a failed line, never its URL (it may hold a password). */
async function readPostgres(databaseUrl: string, relayUser: string | undefined): Promise<Stored> {
  try {
    const store = await openStore({ dbPath: '', databaseUrl });
    try {
      return await readUsers(store, relayUser);
    } finally {
      await store.close();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { error: fail('database', `PostgreSQL (RELAY_DATABASE_URL): ${reason}`, 'check that PostgreSQL runs and the URL, its user and password are right') };
  }
}

async function readUsers(store: Store, relayUser: string | undefined): Promise<Stored> {
  const all = await store.listUsers();
  return {
    users: relayUser === undefined ? all : all.filter((u) => u.relayUser === relayUser),
    storedToken: (await store.getSetting(ADMIN_TOKEN_SETTING)) !== null,
    lastStart: await readAdminTokenSource(store),
  };
}

/** The users to check and whether a token is stored; nothing is created or written (a missing file is not opened). */
async function readStore(dbPath: string, relayUser: string | undefined): Promise<Stored> {
  if (!fs.existsSync(dbPath)) return { error: null };
  try {
    const store = createSqliteStore(dbPath);
    try {
      return await readUsers(store, relayUser);
    } finally {
      await store.close();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      error: fail('database', `cannot open ${dbPath}: ${reason}`, `check the file's owner and permissions (chmod 600 "${dbPath}" and its -wal/-shm files)`),
    };
  }
}

/** Which token a relay on this data folder accepts (the same rule as `admin-token`); never the token. */
function adminTokenLine(settings: Settings, stored: Stored): CheckLine {
  const lastStart = 'lastStart' in stored ? stored.lastStart : null;
  if (settings.config.adminToken !== undefined) {
    const where = settings.sourceOf('RELAY_ADMIN_TOKEN') === 'settings file' ? `in ${settings.settingsFile.path}` : 'in this environment';
    if (lastStart?.source === 'stored') {
      return warn(
        'admin token',
        `RELAY_ADMIN_TOKEN is set ${where}, but the relay last started on this data folder (${lastStart.since}) did not have it and uses the stored token`,
        'restart the relay with these settings',
      );
    }
    return ok('admin token', `RELAY_ADMIN_TOKEN is set ${where}: a relay started with these settings uses it, not the stored token`);
  }
  if (lastStart?.source === 'RELAY_ADMIN_TOKEN') {
    return warn(
      'admin token',
      `the relay last started on this data folder (${lastStart.since}) took RELAY_ADMIN_TOKEN from its own environment, which this shell does not set`,
      `put RELAY_ADMIN_TOKEN in ${settings.settingsFile.path}, so the relay, the service and every command share it`,
    );
  }
  if ('storedToken' in stored && stored.storedToken) return ok('admin token', 'stored in the database (npx trade-relay admin-token prints it)');
  return warn(
    'admin token',
    'none yet: the management API stays closed until one exists',
    'npx trade-relay admin-token creates and prints one (the relay also creates it at start)',
  );
}
