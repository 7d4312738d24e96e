import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../../src/config/config.js';
import type { Strategy } from '../../../src/engine/types.js';
import { ADMIN_TOKEN_SETTING, ADMIN_TOKEN_SOURCE_SETTING } from '../../../src/relay/admin-token.js';
import { hashRelaySecret } from '../../../src/relay/relay-secret.js';
import { startSimulator, type Simulator } from '../../../src/simulator/create-simulator.js';
import { MIGRATIONS as POSTGRES_MIGRATIONS } from '../../../src/store/postgres/migrations.js';
import { type RunningRelay, startRelay } from '../../../src/start-relay.js';
import { accountGroupOf } from '../../../src/store/account-group.js';
import { COPIED_TABLES, toPostgresValue } from '../../../src/store/migrate/copied-tables.js';
import { createPostgresStore } from '../../../src/store/postgres/create-postgres-store.js';
import { createSqliteStore } from '../../../src/store/sqlite/create-sqlite-store.js';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import type { KeyView, PositionKey, SignalLogInput, Store } from '../../../src/store/store.js';
import { entry, exit } from '../../helpers/start-test-relay.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { type CliSandbox, createCliSandbox } from '../../helpers/run-cli.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

// `npx trade-relay migrate-db` (issue 10): an installation built by the real relay on SQLite is
// copied into PostgreSQL, read back equal through the PostgreSQL store, and a relay started on
// PostgreSQL afterwards keeps its ownership, judged by the simulator's book.

const BOB_KEY = 'ct-secret-key-bob-mig-0001';
const CAROL_KEY = 'ct-secret-key-carol-mig-02';
const PAULA_KEY = 'paper-key-of-paula-mig-03';
const CAROL_SECRET = 'carol-passphrase-991';
const PASSWORD = 'pg-pass-w0rd-5521';
const PAST_GRACE_MS = 10_001;
const LOG_ROWS = 1_100;

const bob = (relayId: string) => ({ relayUser: 'bob', relayId });
const bobKey = (instrumentKey: string): PositionKey => ({ accountGroup: accountGroupOf(BOB_KEY), account: 'Sim101', instrumentKey });
const asUser = (alert: string, user: string, extra = '') => `${alert.replace('relay_user=bob', `relay_user=${user}`)} ${extra}`;

/** The URL with a password (trust authentication ignores it): it must never be printed. */
function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = PASSWORD;
  return parsed.toString();
}

interface Installation {
  dir: ReturnType<typeof makeTempDir>;
  file: string;
  sim: Simulator;
  now: () => number;
  advance(ms: number): void;
  /** Every secret the command's output must not show. */
  secrets: string[];
  close(): Promise<void>;
}

function relayConfig(dir: ReturnType<typeof makeTempDir>, sim: Simulator, extra: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    dbPath: dir.file('trade_relay.db'),
    logFile: dir.file('relay.log'),
    crosstradeApiUrl: sim.url,
    // No RELAY_ADMIN_TOKEN: the relay generates one and stores it, as a fresh install does.
    adminToken: undefined,
    rateLimitPerMin: 0,
    apiTimeoutMs: 400,
    forwardTimeoutMs: 600,
    ...extra,
  };
}

async function post(relay: RunningRelay, body: string): Promise<{ status: number; decision: string; reason: string }> {
  const response = await fetch(`${relay.url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
  const answer = (await response.json()) as { decision: string; reason: string };
  return { status: response.status, decision: answer.decision, reason: answer.reason };
}

/**
 * An installation as a trader's relay leaves it: bob (live; strategy A owns Sim101 ES long, B was
 * blocked, D entered and left NQ), carol (live, with a relay secret), paula (paper, a paper book),
 * a key in doubt with closingUntil, a key released by hand, 1,100+ log rows, the generated admin
 * token. Built through the relay over HTTP and the store; the relay is closed, the simulator kept.
 */
async function buildInstallation(): Promise<Installation> {
  const dir = makeTempDir('trade-relay-migrate-');
  let offset = 0;
  const now = () => Date.now() + offset;
  const sim = await startSimulator({ keys: [BOB_KEY, CAROL_KEY], now });
  const relay = await startRelay(relayConfig(dir, sim), { now });
  const { store } = relay;
  const webhookUrl = sim.webhookUrl(BOB_KEY);
  await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl });
  await store.saveUser({ relayUser: 'carol', crosstradeKey: CAROL_KEY, webhookUrl: sim.webhookUrl(CAROL_KEY), relaySecret: hashRelaySecret(CAROL_SECRET) });
  await store.saveUser({ relayUser: 'paula', crosstradeKey: PAULA_KEY, webhookUrl, paper: true });

  expect((await post(relay, entry('A'))).decision).toBe('forwarded');
  expect((await post(relay, entry('B'))).decision).toBe('blocked');
  expect((await post(relay, exit('C'))).decision).toBe('dropped');
  expect((await post(relay, entry('D', { instrument: 'NQ 03-26' }))).decision).toBe('forwarded');
  offset += PAST_GRACE_MS;
  expect((await post(relay, exit('D', { instrument: 'NQ 03-26' }))).decision).toBe('forwarded');
  expect((await post(relay, asUser(entry('A', { account: 'Sim202' }), 'carol', `relay_secret=${CAROL_SECRET};`))).decision).toBe('forwarded');
  expect((await post(relay, asUser(entry('A'), 'paula'))).decision).toBe('forwarded');

  // A key whose order's outcome is unknown, within a closing grace; and one released by hand.
  const owned = (who: Strategy, doubt: boolean, closingUntil?: number) => ({
    value: null,
    writes: [
      {
        instrument: 'RTY1!',
        record: {
          owner: { ...who, direction: 'short' as const, quantity: 2, openedAt: now(), claimedAt: now(), holdUntil: now() + 5_000 },
          doubt: doubt ? { kind: 'unknown-outcome' as const, since: now() } : null,
          ...(closingUntil === undefined ? {} : { closingUntil }),
        },
        marks: [],
      },
    ],
    seen: false,
    log: null,
  });
  await store.arbitrate([bobKey('RTY')], bob('E'), () => owned(bob('E'), true, now() + 60_000), null);
  await store.arbitrate([bobKey('YM')], bob('F'), () => owned(bob('F'), false), null);
  expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'YM' })).toBe(true);

  for (let i = 0; i < LOG_ROWS; i++) await store.appendLog(logRow(i, now()));
  await relay.close();
  expect(sim.positions('Sim101').map((p) => `${p.instrument} ${p.marketPosition} ${p.quantity}`)).toEqual(['ES 03-26 Long 1']);
  const secrets = [BOB_KEY, CAROL_KEY, PAULA_KEY, CAROL_SECRET, PASSWORD, new URL(webhookUrl).pathname, new URL(sim.webhookUrl(CAROL_KEY)).pathname];
  const token = (await readSettings(dir.file('trade_relay.db')))[ADMIN_TOKEN_SETTING];
  if (token !== undefined) secrets.push(token);
  return {
    dir,
    file: dir.file('trade_relay.db'),
    sim,
    now,
    advance: (ms) => {
      offset += ms;
    },
    secrets,
    close: async () => {
      await sim.close();
      dir.cleanup();
    },
  };
}

function logRow(i: number, time: number): SignalLogInput {
  const decisions = ['forwarded', 'blocked', 'dropped', 'rejected', 'failed', 'unknown'] as const;
  return {
    time: time + i,
    relayUser: i % 5 === 0 ? null : i % 2 === 0 ? 'bob' : 'carol',
    relayId: `s${i % 7}`,
    account: 'Sim101',
    instrument: 'ES 03-26',
    signalType: i % 3 === 0 ? 'exit' : 'entry',
    decision: decisions[i % decisions.length] as SignalLogInput['decision'],
    reason: `reason ${i} with 'quotes', "doubles", {braces}, back\\slash and ünïcode`,
    apiCheck: i % 4 === 0 ? 'flat' : null,
    upstreamStatus: i % 6 === 0 ? 200 : null,
    latencyMs: i % 2 === 0 ? i / 3 : null,
    alert: `relay_user=bob; relay_id=s${i}; action=BUY; comment=line\nbreak ${i};`,
  };
}

async function readSettings(file: string): Promise<Record<string, string>> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries((db.prepare('SELECT name, value FROM settings').all() as { name: string; value: string }[]).map((s) => [s.name, s.value]));
  } finally {
    db.close();
  }
}

/** Every row of every copied table, as PostgreSQL should hold it: the SQLite file read past the store. */
function sqliteRows(file: string): Record<string, unknown[][]> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(
      COPIED_TABLES.map((t) => [
        t.name,
        (
          db
            .prepare(`SELECT ${t.columns.map(([c]) => c).join(', ')} FROM ${t.name} ORDER BY ${t.orderBy}`)
            .raw(true)
            .all() as unknown[][]
        ).map((row) => row.map((value, i) => toPostgresValue(value, t.columns[i]?.[1] ?? 'text'))),
      ]),
    );
  } finally {
    db.close();
  }
}

async function postgresRows(url: string): Promise<Record<string, unknown[][]>> {
  const client = await connectTo(url);
  try {
    const result: Record<string, unknown[][]> = {};
    for (const t of COPIED_TABLES) {
      const { rows } = await client.query({ text: `SELECT ${t.columns.map(([c]) => c).join(', ')} FROM ${t.name} ORDER BY ${t.orderBy}`, rowMode: 'array' });
      result[t.name] = (rows as unknown[][]).map((row) => row.map((value, i) => (t.columns[i]?.[1] === 'bigint' && value !== null ? Number(value) : value)));
    }
    return result;
  } finally {
    await client.end();
  }
}

/** What `decide` sees of a key for a strategy: its record and the strategy's marks ("holds nothing", last fingerprint). */
async function look(store: Store, key: PositionKey, sender: Strategy): Promise<KeyView> {
  return (await store.arbitrate([key], sender, (views) => ({ value: views[0] as KeyView, writes: [null], seen: false, log: null }), null)).value;
}

/** Everything a store shows of an installation, through its contract. */
async function everything(store: Store, marks: { key: PositionKey; sender: Strategy }[]) {
  const users = await store.listUsers();
  const groups = [...new Set(users.map((u) => u.accountGroup))];
  return {
    users,
    positions: await store.listPositions(),
    bobPositions: await store.listPositions('bob'),
    keys: await Promise.all(groups.map((group) => store.listKeys(group))),
    logs: await store.listLogs({ limit: 10_000 }),
    counts: await store.countLogs({}),
    carolForwarded: await store.countLogs({ relayUser: 'carol', decisions: ['forwarded', 'failed'] }),
    adminToken: await store.getSetting(ADMIN_TOKEN_SETTING),
    adminTokenSource: await store.getSetting(ADMIN_TOKEN_SOURCE_SETTING),
    paperBook: await store.getPaperBook(accountGroupOf(PAULA_KEY, true)),
    views: await Promise.all(marks.map(({ key, sender }) => look(store, key, sender))),
  };
}

/** Each strategy mark of the file, as the key and sender a view of it is asked with. */
function marksOf(file: string): { key: PositionKey; sender: Strategy }[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT account_group, account_key, instrument_key, relay_user, relay_id FROM strategy_keys').all() as {
      account_group: string;
      account_key: string;
      instrument_key: string;
      relay_user: string;
      relay_id: string;
    }[];
    return rows.map((r) => ({
      // The account as its key (lower case): accounts compare case-insensitively.
      key: { accountGroup: r.account_group, account: r.account_key, instrumentKey: r.instrument_key },
      sender: { relayUser: r.relay_user, relayId: r.relay_id },
    }));
  } finally {
    db.close();
  }
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function expectNoSecret(output: string, secrets: readonly string[]): void {
  for (const secret of secrets) expect(output).not.toContain(secret);
}

let sandbox: CliSandbox;
const databases: TestDatabase[] = [];

async function newDatabase(): Promise<TestDatabase> {
  const created = await createTestDatabase();
  if (created === null) throw new Error('PostgreSQL does not answer');
  databases.push(created);
  return created;
}

beforeEach(() => {
  sandbox = createCliSandbox();
});
afterEach(async () => {
  sandbox.cleanup();
  while (databases.length > 0) await databases.pop()?.drop();
});

describe('migrate-db: a whole installation', () => {
  let install: Installation;
  beforeAll(async () => {
    install = await buildInstallation();
  }, 60_000);
  afterAll(async () => {
    await install.close();
  });

  it('copies everything, reads back equal through the PostgreSQL store, and a relay on PostgreSQL keeps ownership', async () => {
    const db = await newDatabase();
    const before = sha256(install.file);
    const expectedRows = sqliteRows(install.file);
    const marks = marksOf(install.file);
    expect(expectedRows.signal_log?.length).toBeGreaterThan(LOG_ROWS);
    expect(marks.length).toBeGreaterThanOrEqual(5);

    const result = await sandbox.run(['migrate-db', '--from', install.file, '--to', withPassword(db.url)], { timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const masked = `postgres://postgres:***@127.0.0.1:5432/${db.name}`;
    const maxId = expectedRows.signal_log?.at(-1)?.[0] as number;
    expect(result.stdout).toContain(`copying ${install.file} into ${masked} ...`);
    expect(result.stdout).toContain(`created the PostgreSQL schema (version ${POSTGRES_MIGRATIONS.length})`);
    expect(result.stdout).toMatch(
      new RegExp(`copied into ${masked.replaceAll('*', '\\*')} in \\d+\\.\\d s \\(one transaction; every count checked before the commit\\):`),
    );
    expect(result.stdout).toContain('  users               3\n');
    expect(result.stdout).toContain(
      `  signal log          ${expectedRows.signal_log?.length.toLocaleString('en-US')} (next id ${(maxId + 1).toLocaleString('en-US')})\n`,
    );
    expect(result.stdout).toContain('  paper books         1\n');
    expectNoSecret(result.stdout, install.secrets);
    // The file was only read.
    expect(sha256(install.file)).toBe(before);

    // Row for row, every table.
    expect(await postgresRows(db.url)).toEqual(expectedRows);

    // Through the store contract: the same installation on both.
    const sqlite = createSqliteStore(install.file);
    const postgres = await createPostgresStore(db.url);
    try {
      const onSqlite = await everything(sqlite, marks);
      const onPostgres = await everything(postgres, marks);
      expect(onPostgres).toEqual(onSqlite);
      expect(onPostgres.users.map((u) => [u.relayUser, u.paper, u.relaySecret !== null])).toEqual([
        ['bob', false, false],
        ['carol', false, true],
        ['paula', true, false],
      ]);
      expect(onPostgres.positions.map((p) => [p.relayUser, p.relayId, p.instrumentKey, p.direction, p.doubt])).toEqual([
        ['bob', 'A', 'ES', 'long', null],
        ['bob', 'E', 'RTY', 'short', 'unknown-outcome'],
        ['carol', 'A', 'ES', 'long', null],
        ['paula', 'A', 'ES', 'long', null],
      ]);
      expect((await look(postgres, bobKey('RTY'), bob('E'))).record.closingUntil).toBeGreaterThan(install.now());
      expect((await look(postgres, bobKey('YM'), bob('F'))).sender.holdsNothing).toBe(true);
      expect((await look(postgres, bobKey('YM'), bob('F'))).record.doubt?.kind).toBe('changed');
      expect(onPostgres.adminToken).toMatch(/^[\w-]{43}$/);
      expect(onPostgres.paperBook).toContain('Sim101');
    } finally {
      await sqlite.close();
      await postgres.close();
    }

    // A relay on PostgreSQL: A still owns Sim101 ES; B's entry is blocked, A's exit is forwarded.
    const relay = await startRelay(relayConfig(install.dir, install.sim, { databaseUrl: db.url }), { now: install.now });
    try {
      install.advance(PAST_GRACE_MS);
      const contested = await post(relay, entry('B', { extra: 'comment=after-migration' }));
      expect(contested.decision).toBe('blocked');
      expect(contested.reason).toBe('position-open: owned by A, CrossTrade reports Long 1 ES 03-26');
      expect(install.sim.positions('Sim101').map((p) => `${p.instrument} ${p.marketPosition} ${p.quantity}`)).toEqual(['ES 03-26 Long 1']);
      expect((await post(relay, exit('A'))).decision).toBe('forwarded');
      expect(install.sim.positions('Sim101')).toEqual([]);
      // carol's relay secret came along: an alert without it is refused.
      expect((await post(relay, asUser(entry('B', { account: 'Sim202' }), 'carol'))).status).toBe(401);
      // The admin token was copied, not generated again; new log rows come after the copied ones.
      expect(await relay.store.getSetting(ADMIN_TOKEN_SETTING)).toBe((await readSettings(install.file))[ADMIN_TOKEN_SETTING]);
      const [newest] = await relay.store.listLogs({ limit: 1 });
      expect(newest?.id).toBeGreaterThan(maxId);
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('refuses a target that holds anything without --replace, saying what it holds; --replace copies in its place', async () => {
    const db = await newDatabase();
    const url = withPassword(db.url);
    // The target holds another installation, written by a relay on it.
    const other = await createPostgresStore(db.url);
    await other.saveUser({ relayUser: 'zed', crosstradeKey: 'ct-secret-key-of-zed-000', webhookUrl: 'https://app.crosstrade.io/v1/send/z/z' });
    await other.appendLog(logRow(0, 1));
    await other.setSetting(ADMIN_TOKEN_SETTING, 'zed-admin-token-0123456789abcdef');
    await other.close();

    const refused = await sandbox.run(['migrate-db', '--from', install.file, '--to', url], { timeoutMs: 30_000 });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `error: the PostgreSQL database postgres://postgres:***@127.0.0.1:5432/${db.name} already holds 1 user, 1 signal-log row and 1 setting: ` +
        'migrate-db copies into an empty database only. Give an empty database (e.g. CREATE DATABASE trade_relay), or run again with --replace ' +
        'to delete what it holds and copy this installation in its place (in one transaction: if the copy fails, nothing is deleted)\n',
    );
    expectNoSecret(refused.stdout + refused.stderr, [...install.secrets, 'ct-secret-key-of-zed-000']);
    const check = await createPostgresStore(db.url);
    try {
      expect((await check.listUsers()).map((u) => u.relayUser)).toEqual(['zed']);
    } finally {
      await check.close();
    }

    const replaced = await sandbox.run(['migrate-db', '--from', install.file, '--to', url, '--replace'], { timeoutMs: 30_000 });
    expect(replaced.stderr).toBe('');
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('--replace: deleted what the PostgreSQL database held (1 user, 1 signal-log row and 1 setting)\n');
    expect(replaced.stdout).not.toContain('created the PostgreSQL schema');
    expectNoSecret(replaced.stdout, [...install.secrets, 'ct-secret-key-of-zed-000']);
    expect(await postgresRows(db.url)).toEqual(sqliteRows(install.file));
  }, 60_000);
});

describe('migrate-db: what it refuses', () => {
  it('refuses a missing SQLite file, naming it and how it was chosen, and touches nothing', async () => {
    const db = await newDatabase();
    const missing = path.join(sandbox.dir, 'typo.db');
    const result = await sandbox.run(['migrate-db', '--from', missing, '--to', withPassword(db.url)]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: no SQLite database at ${missing} (chosen by --from): check the path; nothing was copied\n`,
    });
    const client = await connectTo(db.url);
    try {
      expect((await client.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'")).rows).toEqual([{ n: 0 }]);
    } finally {
      await client.end();
    }
  });

  it('refuses without a target, and a target that is not a PostgreSQL URL without repeating it', async () => {
    const none = await sandbox.run(['migrate-db']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'error: --to is required (or RELAY_DATABASE_URL): the PostgreSQL database to copy into, e.g. --to postgres://relay:password@127.0.0.1:5432/trade_relay\n',
    );
    const wrong = await sandbox.run(['migrate-db', '--to', `mysql://root:${PASSWORD}@db/x`]);
    expect(wrong).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: --to must be a postgres:// (or postgresql://) URL, e.g. --to postgres://relay:password@127.0.0.1:5432/trade_relay\n',
    });
    expectNoSecret(wrong.stderr, [PASSWORD]);
  });

  it('refuses while a relay runs on the SQLite file, and leaves the target empty', async () => {
    const db = await newDatabase();
    const dir = makeTempDir();
    const sim = await startSimulator({ keys: [BOB_KEY] });
    const relay = await startRelay(relayConfig(dir, sim));
    try {
      await relay.store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: sim.webhookUrl(BOB_KEY) });
      const result = await sandbox.run(['migrate-db', '--from', dir.file('trade_relay.db'), '--to', db.url], { timeoutMs: 30_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error: another process has ${dir.file('trade_relay.db')} open: a relay still running on it, or a tool such as a SQLite browser. ` +
          'Its alerts could be decided after the copy and be lost. Stop the relay first (Ctrl+C where `npx trade-relay start` runs; ' +
          'a service: systemctl stop trade-relay on Linux, or stop the service named trade-relay in Windows Services), then run npx trade-relay migrate-db again\n',
      );
      // The relay was not disturbed.
      expect((await post(relay, entry('A'))).decision).toBe('forwarded');
    } finally {
      await relay.close();
      await sim.close();
    }
    const client = await connectTo(db.url);
    try {
      expect((await client.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'")).rows).toEqual([{ n: 0 }]);
    } finally {
      await client.end();
    }
    // Stopped, it migrates.
    const after = await sandbox.run(['migrate-db', '--from', dir.file('trade_relay.db'), '--to', db.url], { timeoutMs: 30_000 });
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('  signal log          1 (next id 2)\n');
    dir.cleanup();
  }, 30_000);

  it('refuses while a relay is connected to the target', async () => {
    const db = await newDatabase();
    const running = await createPostgresStore(db.url);
    try {
      await running.listUsers(); // its pool keeps the connection open, as a relay's does

      const result = await sandbox.run(['migrate-db', '--from', sandbox.dbPath, '--to', db.url, '--replace'], { timeoutMs: 30_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^error: \\d+ connection\\(s\\) of a relay \\(or of another trade-relay command\\) are open on the PostgreSQL database postgres://postgres@127.0.0.1:5432/${db.name}: stop the relays that use it first, then run npx trade-relay migrate-db again\\n$`,
        ),
      );
    } finally {
      await running.close();
    }
  });
});

describe('migrate-db: where it finds the installation', () => {
  it('reads <data folder>/trade_relay.db and RELAY_DATABASE_URL when neither --from nor --to is given', async () => {
    const db = await newDatabase();
    const home = makeTempDir();
    try {
      const store = createSqliteStore(home.file('trade_relay.db'));
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://app.crosstrade.io/v1/send/a/b' });
      await store.close();
      const env: NodeJS.ProcessEnv = { ...sandbox.env, RELAY_DATABASE_URL: withPassword(db.url) };
      delete env.RELAY_DB;
      delete env.RELAY_HOME;
      const result = await sandbox.run(['migrate-db', '--home', home.dir], { env, timeoutMs: 30_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`copying ${home.file('trade_relay.db')} into postgres://postgres:***@127.0.0.1:5432/${db.name} ...`);
      expect(result.stdout).toContain('  users               1\n');
      expectNoSecret(result.stdout, [BOB_KEY, PASSWORD]);
    } finally {
      home.cleanup();
    }
  });

  it('copies a file of an older schema (version 6) through a migrated temporary copy, leaving the file as it was', async () => {
    const db = await newDatabase();
    const file = path.join(sandbox.dir, 'v6.db');
    const old = new Database(file);
    old.function('relay_account_group', { deterministic: true }, (key: unknown) => accountGroupOf(String(key)));
    for (let v = 0; v < 6; v++) old.exec(MIGRATIONS[v] as string);
    old.pragma('user_version = 6');
    const group = accountGroupOf(BOB_KEY);
    old
      .prepare('INSERT INTO users (relay_user, crosstrade_key, webhook_url, relay_secret, created_at, updated_at, account_group) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('bob', BOB_KEY, 'https://app.crosstrade.io/v1/send/a/b', null, '2026-01-05T14:30:00.000Z', '2026-01-05T14:30:00.000Z', group);
    old
      .prepare(
        `INSERT INTO key_records (account_group, account_key, instrument_key, account, instrument, owner_user, owner_id, direction, quantity,
           opened_at, claimed_at, hold_until, doubt, doubt_since, updated_at, version) VALUES (?, 'sim101', 'ES', 'Sim101', 'ES 03-26', 'bob', 'A', 'long', 1, 100, 110, 120, NULL, NULL, 130, 4242)`,
      )
      .run(group);
    old.prepare("INSERT INTO strategy_keys VALUES (?, 'sim101', 'ES', 'bob', 'B', 1, 'fp-b', 140)").run(group);
    old.prepare("INSERT INTO alert_fingerprints (fingerprint, time, refused) VALUES ('fp-b', 150, 0)").run();
    const insertLog = old.prepare(
      "INSERT INTO signal_log (time, relay_user, relay_id, decision, reason, alert) VALUES (?, 'bob', 'A', 'forwarded', 'entry: nobody owns the position', 'a')",
    );
    old.transaction(() => {
      for (let i = 0; i < 1_500; i++) insertLog.run(1_000 + i);
    })();
    old.prepare("INSERT INTO settings VALUES ('admin_token', 'old-admin-token-0123456789abcdef')").run();
    old.close();
    const before = sha256(file);

    const result = await sandbox.run(['migrate-db', '--from', file, '--to', db.url], { timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `the SQLite file had schema version 6 (this relay's is ${MIGRATIONS.length}): a temporary copy of it was brought up to date and copied; ${file} itself was left as it was\n`,
    );
    expect(result.stdout).toContain('  signal log          1,500 (next id 1,501)\n');
    expect(sha256(file)).toBe(before);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(6);
    check.close();

    const store = await createPostgresStore(db.url);
    try {
      expect(await store.getUser('bob')).toMatchObject({ crosstradeKey: BOB_KEY, paper: false, accountGroup: group });
      expect(await store.listPositions()).toEqual([
        {
          relayUser: 'bob',
          relayId: 'A',
          direction: 'long',
          quantity: 1,
          openedAt: 100,
          claimedAt: 110,
          holdUntil: 120,
          account: 'Sim101',
          instrumentKey: 'ES',
          instrument: 'ES 03-26',
          doubt: null,
          updatedAt: 130,
        },
      ]);
      const view = await look(store, { accountGroup: group, account: 'Sim101', instrumentKey: 'ES' }, { relayUser: 'bob', relayId: 'B' });
      expect(view).toEqual({
        record: { owner: { relayUser: 'bob', relayId: 'A', direction: 'long', quantity: 1, openedAt: 100, claimedAt: 110, holdUntil: 120 }, doubt: null },
        version: 4242,
        sender: { holdsNothing: true, lastFingerprint: 'fp-b' },
      });
      expect(await store.countLogs({})).toEqual({ forwarded: 1_500 });
      expect(await store.getSetting('admin_token')).toBe('old-admin-token-0123456789abcdef');
    } finally {
      await store.close();
    }
  });
});
