import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adoptLegacyDatabase } from '../../src/config/adopt-legacy-database.js';
import { ConfigError } from '../../src/config/config-error.js';
import { installDir, resolveHome } from '../../src/config/home.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  temp = makeTempDir();
});
afterEach(() => temp.cleanup());

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('the data folder (issue 8, case 1)', () => {
  it('is --home over RELAY_HOME over <install folder>/data, whatever the current folder', () => {
    expect(resolveHome({}, undefined, '/somewhere/else')).toEqual({ dir: path.join(installDir(), 'data'), source: 'default' });
    expect(resolveHome({ RELAY_HOME: 'rel' }, undefined, '/x')).toEqual({ dir: path.resolve('/x/rel'), source: 'RELAY_HOME' });
    expect(resolveHome({ RELAY_HOME: '/env' }, '/flag', '/x')).toEqual({ dir: path.resolve('/flag'), source: '--home' });
    expect(fs.existsSync(path.join(installDir(), 'package.json'))).toBe(true);
  });

  it('puts the database and the log in it, as absolute paths; --db and RELAY_DB still win, relative to the current folder', () => {
    const settings = loadSettings({ env: { RELAY_HOME: temp.dir }, cwd: '/elsewhere' });
    expect(settings.config.dbPath).toBe(path.join(temp.dir, 'trade_relay.db'));
    expect(settings.config.logFile).toBe(path.join(temp.dir, 'trade_relay.log'));
    expect(settings.dbIsDefault).toBe(true);
    expect(loadSettings({ env: { RELAY_HOME: temp.dir, RELAY_DB: 'mine.db' }, cwd: '/elsewhere' }).config.dbPath).toBe(path.resolve('/elsewhere/mine.db'));
    expect(loadSettings({ env: { RELAY_HOME: temp.dir }, flags: { dbPath: 'flag.db' }, cwd: '/w' }).config.dbPath).toBe(path.resolve('/w/flag.db'));
  });
});

describe('settings.env', () => {
  it('is read under the environment: the environment wins, flags win over both; its relative paths are in the data folder', () => {
    fs.writeFileSync(
      temp.file('settings.env'),
      '\uFEFF# the service and the CLI share this\r\nRELAY_PORT=80\r\nRELAY_HOST = "127.0.0.1"\nRELAY_DB=relay.db\nRELAY_ADMIN_TOKEN=file-token-0123456789\n\n',
    );
    const fromFile = loadSettings({ env: { RELAY_HOME: temp.dir } });
    expect(fromFile.config).toMatchObject({ port: 80, host: '127.0.0.1', dbPath: temp.file('relay.db'), adminToken: 'file-token-0123456789' });
    expect(fromFile.sourceOf('RELAY_ADMIN_TOKEN')).toBe('settings file');
    expect(fromFile.settingsFile).toMatchObject({ path: temp.file('settings.env'), exists: true });
    const overridden = loadSettings({ env: { RELAY_HOME: temp.dir, RELAY_PORT: '8081', RELAY_ADMIN_TOKEN: 'env-token-0123456789' }, flags: { port: '8082' } });
    expect(overridden.config).toMatchObject({ port: 8082, adminToken: 'env-token-0123456789' });
    expect(overridden.sourceOf('RELAY_ADMIN_TOKEN')).toBe('environment');
  });

  it('lists its own problems with the values’, naming the file and line', () => {
    const file = temp.file('settings.env');
    fs.writeFileSync(file, 'RELAY_PORT=abc\nnonsense\nRELAY_PROT=80\nRELAY_HOME=/x\nRELAY_API_TIMEOUT_MS=2000\nRELAY_API_TIMEOUT_MS=1000\n');
    expect(problemsOf(() => loadSettings({ env: { RELAY_HOME: temp.dir } }))).toEqual([
      `${file} line 2: expected NAME=value, e.g. RELAY_PORT=80`,
      `${file} line 3: unknown setting RELAY_PROT (the names are those of the configuration table in README.md)`,
      `${file} line 4: RELAY_HOME cannot be set in the settings file: it chooses the folder the file is in; set it in the environment or use --home`,
      `${file} line 6: RELAY_API_TIMEOUT_MS is set twice (first on line 5)`,
      `RELAY_PORT (${file} line 1): must be a whole number from 0 to 65535`,
      'RELAY_API_TIMEOUT_MS + RELAY_FORWARD_TIMEOUT_MS must be at most 2500 ms, so the reply reaches TradingView inside its 3 s',
    ]);
  });
});

describe('configuration errors name what the user set (issue 8, case 9)', () => {
  it('--port 99999 is --port; RELAY_PORT=abc is RELAY_PORT, in plain words, with every other problem at once', () => {
    expect(problemsOf(() => loadSettings({ env: { RELAY_HOME: temp.dir, RELAY_PORT: '8080' }, flags: { port: '99999' } }))).toEqual([
      '--port: must be a whole number from 0 to 65535',
    ]);
    expect(
      problemsOf(() =>
        loadSettings({
          env: { RELAY_HOME: temp.dir, RELAY_PORT: 'abc', RELAY_API_TIMEOUT_MS: '1500', RELAY_FORWARD_TIMEOUT_MS: '1500', RELAY_FILL_GRACE_SECONDS: '2.5' },
        }),
      ).sort(),
    ).toEqual(
      [
        'RELAY_PORT: must be a whole number from 0 to 65535',
        'RELAY_FILL_GRACE_SECONDS: must be a whole number from 1 to 3600',
        'RELAY_API_TIMEOUT_MS + RELAY_FORWARD_TIMEOUT_MS must be at most 2500 ms, so the reply reaches TradingView inside its 3 s',
      ].sort(),
    );
  });
});

describe('an earlier version’s database in the install folder', () => {
  it('moves into the data folder with its users, and says so', async () => {
    const old = temp.file('trade_relay.db');
    const store = createSqliteStore(old);
    await store.saveUser({ relayUser: 'alice', crosstradeKey: 'alice-key-12345678', webhookUrl: 'https://app.crosstrade.io/v1/send/a/b' });
    await store.close();
    const target = path.join(temp.dir, 'data', 'trade_relay.db');
    expect(adoptLegacyDatabase(target, temp.dir)).toBe(`moved the database ${old} into the data folder: ${target} (its users, positions and log are kept)`);
    expect(fs.existsSync(old)).toBe(false);
    const moved = createSqliteStore(target);
    expect((await moved.getUser('alice'))?.crosstradeKey).toBe('alice-key-12345678');
    await moved.close();
    // Nothing to move twice, and a data folder that already has a database is never overwritten.
    expect(adoptLegacyDatabase(target, temp.dir)).toBeNull();
    await createSqliteStore(old).close();
    expect(adoptLegacyDatabase(target, temp.dir)).toBeNull();
    expect(fs.existsSync(old)).toBe(true);
  });
});

describe('the Windows scripts lead to port 80 (issue 8, "a URL that works")', () => {
  it('install.bat writes a settings.env that sets RELAY_PORT=80, and start_relay.bat sets no variable that would override it', () => {
    const install = fs.readFileSync(path.join(installDir(), 'install.bat'), 'utf8');
    const written = [...install.matchAll(/^>>? "%DATA%\\settings\.env" echo (.*)\r$/gm)].map((m) => m[1]);
    expect(written.at(-1)).toBe('RELAY_PORT=80');
    fs.writeFileSync(temp.file('settings.env'), written.map((line) => `${line}\r\n`).join(''));
    expect(loadSettings({ env: { RELAY_HOME: temp.dir } }).config.port).toBe(80);
    const start = fs.readFileSync(path.join(installDir(), 'start_relay.bat'), 'utf8');
    expect(start).not.toMatch(/set "RELAY_/);
    expect(start).toContain('node bin\\trade-relay.js start %*');
  });
});
