import { spawn } from 'node:child_process';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { CLI_MAIN, type CliSandbox, createCliSandbox, exitCode, REPO_ROOT, waitForLine } from '../helpers/run-cli.js';
import { letOthersReach } from '../helpers/reachable-by-others.js';

// Some tests run the CLI as another account: it must reach this checkout.
letOthersReach(REPO_ROOT);

// Issue 8, "the trader's first hour": one data folder, one admin token, commands as written.

const KEY = 'ct-secret-key-9f3a7c21';
const WEBHOOK_URL = 'https://app.crosstrade.io/v1/send/acct-4411/tok-5e8d2b90';
const ENV_TOKEN = 'env-admin-token-0123456789abcdef';

let sandbox: CliSandbox;
beforeEach(() => {
  sandbox = createCliSandbox();
});
afterEach(() => sandbox.cleanup());

/** The sandbox's environment with the data folder `home` and no RELAY_DB: the database is the data folder's. */
function homeEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { RELAY_DB: _db, RELAY_LOG_FILE: _log, ...env } = sandbox.env;
  return { ...env, RELAY_HOME: home, ...extra };
}

async function startAndStop(env: NodeJS.ProcessEnv, args: string[] = []): Promise<string> {
  const child = sandbox.spawn(['start', '--port', '0', '--host', '127.0.0.1', ...args], { env });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const line = await waitForLine(child, (l) => l.includes('"relay listening"'));
  // Healthy first: the signal handlers are in place once the relay answers.
  expect((await fetch(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/health`)).status).toBe(200);
  child.kill('SIGTERM');
  expect(await exitCode(child)).toBe(0);
  return out;
}

describe('one data folder (case 1)', () => {
  it('refuses a database that does not exist, naming it, and creates nothing', async () => {
    const result = await sandbox.run(['list-users', '--db', 'typo.db'], { cwd: sandbox.dir });
    const typo = path.join(sandbox.dir, 'typo.db');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: no database at ${typo} (chosen by --db). Check --home / --db / RELAY_HOME / RELAY_DB, or create it: "npx trade-relay add-user" or "npx trade-relay start" makes a new one\n`,
    });
    expect(fs.existsSync(typo)).toBe(false);
    const home = path.join(sandbox.dir, 'empty-home');
    for (const command of [['positions'], ['logs'], ['admin-token'], ['remove-user', 'alice'], ['clear-position', 'alice', 'Sim101', 'ES']]) {
      const refused = await sandbox.run(command, { env: homeEnv(home) });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`error: no database at ${path.join(home, 'trade_relay.db')} (chosen by the data folder ${home}, from RELAY_HOME)`);
    }
    expect(fs.existsSync(home)).toBe(false);
  });

  it('add-user and start use the same database from any folder, and start logs its absolute path', async () => {
    const home = path.join(sandbox.dir, 'home');
    const sub = path.join(sandbox.dir, 'strategies', 'es');
    fs.mkdirSync(sub, { recursive: true });
    const added = await sandbox.run(['add-user', '--user', 'alice', '--key', KEY, '--webhook-url', WEBHOOK_URL], { env: homeEnv(home), cwd: sub });
    expect(added.stdout).toBe(`user alice created in ${path.join(home, 'trade_relay.db')}\n`);
    const out = await startAndStop(homeEnv(home));
    const listening = JSON.parse(out.split('\n').find((l) => l.includes('"relay listening"')) ?? '{}') as Record<string, unknown>;
    expect(listening).toMatchObject({ db: path.join(home, 'trade_relay.db'), home, home_source: 'RELAY_HOME' });
    expect(fs.readdirSync(sub)).toEqual([]);
  });

  it('shares settings.env between every command: RELAY_DB there is read by list-users as by start', async () => {
    const home = path.join(sandbox.dir, 'home');
    fs.mkdirSync(home);
    fs.writeFileSync(path.join(home, 'settings.env'), 'RELAY_DB=custom.db\n');
    await sandbox.run(['add-user', '--user', 'alice', '--key', KEY, '--webhook-url', WEBHOOK_URL], { env: homeEnv(home) });
    expect(fs.existsSync(path.join(home, 'custom.db'))).toBe(true);
    expect((await sandbox.run(['list-users', '--json'], { env: homeEnv(home) })).stdout).toContain('"relay_user": "alice"');
    expect(await startAndStop(homeEnv(home))).toContain(`"db":"${path.join(home, 'custom.db')}"`);
  });
});

describe('one admin token (case 2)', () => {
  it('after a relay started with RELAY_ADMIN_TOKEN, admin-token from another shell prints no stored token it would refuse', async () => {
    const home = path.join(sandbox.dir, 'home');
    const out = await startAndStop(homeEnv(home, { RELAY_ADMIN_TOKEN: ENV_TOKEN }));
    expect(out).toContain('admin token: RELAY_ADMIN_TOKEN from the environment (the token stored in the database is not accepted)');
    expect(out).not.toContain(ENV_TOKEN);
    const result = await sandbox.run(['admin-token'], { env: homeEnv(home) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^error: the relay last started on this data folder \(.+\) uses RELAY_ADMIN_TOKEN from its own environment and refuses the stored token/,
    );
    expect(result.stderr).toContain(`put RELAY_ADMIN_TOKEN=<token> in ${path.join(home, 'settings.env')}`);
    // Started again without it, the stored token is the one in effect and is printed.
    await startAndStop(homeEnv(home));
    const stored = await sandbox.run(['admin-token'], { env: homeEnv(home) });
    expect(stored).toMatchObject({ code: 0, stderr: '' });
    expect(stored.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });

  it('with RELAY_ADMIN_TOKEN in the environment or settings.env, prints that one, says so, and refuses to rotate', async () => {
    const home = path.join(sandbox.dir, 'home');
    await startAndStop(homeEnv(home));
    const fromEnv = await sandbox.run(['admin-token'], { env: homeEnv(home, { RELAY_ADMIN_TOKEN: ENV_TOKEN }) });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toBe(`${ENV_TOKEN}\n`);
    expect(fromEnv.stderr.split('\n')).toEqual([
      'RELAY_ADMIN_TOKEN is set in this environment: a relay started with these settings accepts it (the token stored in the database is not used)',
      expect.stringMatching(/^note: the relay last started on this data folder \(.+\) did not have it and uses the stored token until it restarts$/),
      '',
    ]);
    const settingsFile = path.join(home, 'settings.env');
    fs.writeFileSync(settingsFile, `RELAY_ADMIN_TOKEN=${ENV_TOKEN}\n`);
    const fromFile = await sandbox.run(['admin-token'], { env: homeEnv(home) });
    expect(fromFile.stdout).toBe(`${ENV_TOKEN}\n`);
    expect(fromFile.stderr).toContain(`RELAY_ADMIN_TOKEN is set in ${settingsFile}: a relay started with these settings accepts it`);
    expect(await sandbox.run(['admin-token', '--rotate'], { env: homeEnv(home) })).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: RELAY_ADMIN_TOKEN is set in ${settingsFile}, so a relay uses it and not a stored token: change RELAY_ADMIN_TOKEN instead of rotating\n`,
    });
  });
});

/** Runs the CLI as another user when the tests run as root (root writes read-only files), else as this one. */
function runAs(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, cwd, stdio: 'pipe', ...asNobody });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('a read-only database (case 6)', () => {
  it('is refused naming the path and the fix, and leaves no file tighter than before: after chmod 600 it opens', async () => {
    const dir = path.join(sandbox.dir, 'data');
    fs.mkdirSync(dir);
    fs.chmodSync(sandbox.dir, 0o755);
    fs.chmodSync(dir, 0o777);
    const db = path.join(dir, 'trade_relay.db');
    await createSqliteStore(db).close();
    if (process.getuid?.() === 0) fs.chownSync(db, 65534, 65534);
    fs.chmodSync(db, 0o400);
    const env = homeEnv(dir);
    const refused = await runAs(['start', '--port', '0', '--host', '127.0.0.1'], env, dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(`^error: the database ${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is read-only for this user: make it writable \\(Linux: chmod 600 "`),
    );
    expect(refused.stderr).not.toContain('attempt to write a readonly database');
    for (const side of ['-wal', '-shm']) expect(fs.existsSync(db + side)).toBe(false);

    fs.chmodSync(db, 0o600);
    const child = spawn(process.execPath, [CLI_MAIN, 'list-users'], { env, cwd: dir, ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}) });
    expect(await exitCode(child)).toBe(0);
  });

  it('repairs a -shm an earlier version’s failed start left read-only', async () => {
    const dir = path.join(sandbox.dir, 'data');
    fs.mkdirSync(dir);
    fs.chmodSync(sandbox.dir, 0o755);
    fs.chmodSync(dir, 0o777);
    const db = path.join(dir, 'trade_relay.db');
    await createSqliteStore(db).close();
    fs.writeFileSync(`${db}-shm`, Buffer.alloc(32_768));
    if (process.getuid?.() === 0) {
      fs.chownSync(db, 65534, 65534);
      fs.chownSync(`${db}-shm`, 65534, 65534);
    }
    fs.chmodSync(db, 0o600);
    fs.chmodSync(`${db}-shm`, 0o400);
    const result = await runAs(['list-users'], homeEnv(dir), dir);
    expect(result).toEqual({ code: 0, stdout: 'no users\n', stderr: '' });
    expect(fs.statSync(`${db}-shm`, { throwIfNoEntry: false })?.mode ?? 0o600).toSatisfy((mode: number) => (mode & 0o600) === 0o600);
  });
});

describe('a locked database', () => {
  it('is refused naming the path and the likely cause: another relay holding it', async () => {
    const holder = new Database(sandbox.dbPath);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const result = await sandbox.run(['list-users']);
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr:
          `error: the database ${sandbox.dbPath} is locked by another process: another relay (or a tool such as a SQLite browser) is holding it; ` +
          'stop it or wait for it to finish, then try again\n',
      });
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });
});

describe('an earlier version’s ./trade_relay.db in the install folder', () => {
  it('start moves it into the data folder, says so, and keeps its users', async () => {
    // A copy of the install folder: the default data folder is <install folder>/data.
    const install = path.join(sandbox.dir, 'install');
    fs.mkdirSync(install);
    fs.cpSync(path.join(REPO_ROOT, 'dist'), path.join(install, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(install, 'package.json'));
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(install, 'node_modules'), 'junction');
    const old = path.join(install, 'trade_relay.db');
    const store = createSqliteStore(old);
    await store.saveUser({ relayUser: 'alice', crosstradeKey: KEY, webhookUrl: WEBHOOK_URL });
    await store.close();
    const { RELAY_HOME: _home, RELAY_DB: _db, RELAY_LOG_FILE: _log, ...env } = sandbox.env;
    const main = path.join(install, 'dist', 'cli', 'main.js');
    const child = spawn(process.execPath, [main, 'start', '--port', '0', '--host', '127.0.0.1'], { env, cwd: install });
    const line = await waitForLine(child, (l) => l.includes('"relay listening"'));
    const moved = path.join(install, 'data', 'trade_relay.db');
    expect(JSON.parse(line)).toMatchObject({ db: moved, home: path.join(install, 'data'), home_source: 'default' });
    expect((await fetch(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/health`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(0);
    expect(fs.readFileSync(path.join(install, 'data', 'trade_relay.log'), 'utf8')).toContain(
      `moved the database ${old} into the data folder: ${moved} (its users, positions and log are kept)`,
    );
    expect(fs.existsSync(old)).toBe(false);
    const list = spawn(process.execPath, [main, 'list-users', '--json'], { env, cwd: sandbox.dir });
    let out = '';
    list.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    expect(await exitCode(list)).toBe(0);
    expect(out).toContain('"relay_user": "alice"');
  });
});

describe('commands as written (cases 4, 5)', () => {
  it('`npm start -- --port N` runs the relay on that port without recompiling', async () => {
    const child = spawn('npm', ['start', '--', '--port', '0', '--host', '127.0.0.1'], {
      env: homeEnv(path.join(sandbox.dir, 'home')),
      cwd: REPO_ROOT,
      detached: true,
      shell: process.platform === 'win32',
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    try {
      const line = await waitForLine(child, (l) => l.includes('"relay listening"'), 15_000);
      expect((await fetch(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/health`)).status).toBe(200);
      // tsc alone takes seconds; a start that compiles says "building" first.
      expect(err).not.toContain('building');
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      await exitCode(child);
    }
  });

  it('`npm start` on a stale build compiles it as `npm run build` does, the console templates and assets included', async () => {
    // A copy of the install folder without dist/ (a git pull without npm install): only npm start compiles.
    const copy = path.join(sandbox.dir, 'install');
    for (const name of ['bin', 'src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
      fs.cpSync(path.join(REPO_ROOT, name), path.join(copy, name), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const child = spawn(process.execPath, [path.join(copy, 'bin', 'trade-relay.js'), 'list-users'], {
      env: { ...homeEnv(path.join(sandbox.dir, 'home')), npm_lifecycle_event: 'start' },
      cwd: sandbox.dir,
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    await exitCode(child);
    expect(err).toContain('building it first');
    expect(fs.existsSync(path.join(copy, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(fs.readdirSync(path.join(copy, 'dist', 'console', 'views'))).toContain('login.eta');
    expect(fs.readdirSync(path.join(copy, 'dist', 'console', 'assets')).sort()).toEqual(['console.css', 'console.js']);
  }, 60_000);

  it('`npm start --port 80` (no --) says how to write it', async () => {
    const result = await sandbox.run(['start', '80'], { env: { ...sandbox.env, npm_lifecycle_event: 'start' } });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: start takes no arguments, got "80": npm keeps flags written before "--" for itself: write npm start -- --port 80\n',
    });
  });

  it('`npm start --port 8184` (no --) names the port that was meant (issue 8, case 4)', async () => {
    const result = await sandbox.run(['start', '8184'], { env: { ...sandbox.env, npm_lifecycle_event: 'start' } });
    expect(result.stderr).toBe('error: start takes no arguments, got "8184": npm keeps flags written before "--" for itself: write npm start -- --port 8184\n');
  });

  it('`npx trade-relay <command>` runs the project’s own command line', async () => {
    const child = spawn('npx', ['--offline', 'trade-relay', 'list-users'], { env: sandbox.env, cwd: REPO_ROOT, shell: process.platform === 'win32' });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    expect(await exitCode(child)).toBe(0);
    expect(out).toBe('no users\n');
  });
});
