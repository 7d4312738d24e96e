import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { CLI_MAIN, type CliSandbox, createCliSandbox, exitCode, REPO_ROOT, waitForLine } from '../helpers/run-cli.js';

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
      stderr: `error: no database at ${typo} (chosen by --db). Check --home / --db / RELAY_HOME / RELAY_DB, or create it: "trade-relay add-user" or "trade-relay start" makes a new one\n`,
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
