import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { closedPort } from '../helpers/closed-port.js';
import { type CliResult, runCli } from '../helpers/run-cli.js';
import { entry, exit, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';

let rig: TestRig;
let env: NodeJS.ProcessEnv;

/** A database and a simulator as a relay left them: A owns ES on Sim101 (entered, forwarded, filled). */
beforeEach(async () => {
  rig = await startTestRig();
  expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
  await rig.relay.close();
  env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(RELAY_|CROSSTRADE_|LOG_LEVEL$)/.test(name)));
  env.RELAY_DB = rig.config.dbPath;
  env.CROSSTRADE_API_URL = rig.sim.url;
});

afterEach(async () => {
  await rig.close();
});

/** Everything that must not change: the database files, the signal log, what the simulator received and its book. */
async function snapshot() {
  const hash = (file: string) => (fs.existsSync(file) ? createHash('sha256').update(fs.readFileSync(file)).digest('hex') : null);
  const store = createSqliteStore(rig.config.dbPath);
  const logs = (await store.listLogs({ limit: 100 })).length;
  const positions = await store.listPositions();
  await store.close();
  return { db: hash(rig.config.dbPath), wal: hash(`${rig.config.dbPath}-wal`), logs, positions, received: rig.sim.received.length, book: rig.book() };
}

async function testAlert(alert: string, ...args: string[]): Promise<CliResult> {
  const file = `${rig.config.dbPath}.alert.txt`;
  fs.writeFileSync(file, alert);
  return runCli(['test-alert', '--file', file, ...args], { env });
}

function line(stdout: string, name: string): string {
  return stdout.split('\n').find((l) => l.startsWith(`${name}:`)) ?? `(no ${name} line)`;
}

describe('trade-relay test-alert', () => {
  it('shows that a second strategy’s entry would be blocked by the stored owner, and records nothing', async () => {
    const before = await snapshot();
    const result = await testAlert(entry('B'));
    expect(result.code).toBe(0);
    expect(line(result.stdout, 'signal')).toBe('signal:         entry (flat → long)');
    expect(line(result.stdout, 'key')).toBe('key:            bob / Sim101 / ES');
    expect(line(result.stdout, 'decision now')).toMatch(/^decision now: {3}would be blocked: .*A/);
    expect(result.stdout).toMatch(/nothing was forwarded or recorded\n$/);
    expect(await snapshot()).toEqual(before);
  });

  it('shows what would be forwarded with the CrossTrade key masked, and the relay fields stripped', async () => {
    const result = await testAlert(entry('B', { extra: 'relay_alert_id=1700000000' }));
    expect(line(result.stdout, 'would forward')).toBe(
      'would forward:  key=****3456; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY; prev_market_position=flat; market_position=long;',
    );
    expect(line(result.stdout, 'to')).toMatch(/^to: {13}http:\/\/127\.0\.0\.1:\d+\/\*\*\*\*$/);
    expect(result.stdout + result.stderr).not.toContain(USER_KEY);
    expect(result.stdout).not.toContain(rig.sim.webhookUrl(USER_KEY).split('/v1/send/')[1]);
  });

  it('reads CrossTrade when the decision needs it, and never places an order', async () => {
    const before = await snapshot();
    const calls = rig.sim.apiCalls;
    // The owner's exit is checked against the account: CrossTrade reads Long 1.
    const result = await testAlert(exit('A'));
    expect(result.code).toBe(0);
    expect(line(result.stdout, 'position check')).toBe('position check: open: Long 1 ES 03-26');
    expect(line(result.stdout, 'decision now')).toMatch(/^decision now: {3}would be forwarded: /);
    expect(rig.sim.apiCalls).toBe(calls + 1);
    expect(await snapshot()).toEqual(before);
  });

  it('says in words why CrossTrade could not be read (issue 8: CrossTrade’s answers explained)', async () => {
    env.CROSSTRADE_API_URL = `http://127.0.0.1:${await closedPort()}`;
    const result = await testAlert(exit('A'));
    expect(line(result.stdout, 'position check')).toBe(
      'position check: failed: api-network-error [CrossTrade could not be reached: the position is unknown (check the network and CROSSTRADE_API_URL)]',
    );
    expect(line(result.stdout, 'decision now')).toContain('[CrossTrade could not be reached: the position is unknown');
  });

  it('says a position check would be needed, without making it, under --no-check', async () => {
    const calls = rig.sim.apiCalls;
    const result = await testAlert(exit('A'), '--no-check');
    expect(line(result.stdout, 'decision now')).toMatch(/^decision now: {3}needs a position check first \(.+\); run without --no-check to read it$/);
    expect(rig.sim.apiCalls).toBe(calls);
  });

  it('reads the alert from stdin', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI_MAIN } = await import('../helpers/run-cli.js');
    const child = spawn(process.execPath, [CLI_MAIN, 'test-alert'], { env, stdio: 'pipe' });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stdin.end(entry('B'));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(line(stdout, 'decision now')).toMatch(/^decision now: {3}would be blocked/);
  });

  it('shows a rejected alert with the reason the relay would answer, exit code 1', async () => {
    const before = await snapshot();
    const unknown = await testAlert(entry('A').replace('relay_user=bob', 'relay_user=zed'));
    expect(unknown.code).toBe(1);
    expect(line(unknown.stdout, 'decision now')).toBe('decision now:   rejected, HTTP 404: unknown relay_user "zed" (relay_user zed, relay_id A)');
    const unreadable = await testAlert('relay_user=bob; command=PLACE;');
    expect(unreadable.code).toBe(1);
    expect(line(unreadable.stdout, 'decision now')).toMatch(/^decision now: {3}rejected, HTTP 400: .*relay_id/);
    expect(await snapshot()).toEqual(before);
  });

  it('forwards and records nothing on odd input: FLATTENEVERYTHING, JSON, a copy of a forwarded alert, carried secrets, a paper user', async () => {
    const store = createSqliteStore(rig.config.dbPath);
    await store.saveUser({ relayUser: 'paula', crosstradeKey: USER_KEY, webhookUrl: rig.sim.webhookUrl(USER_KEY), paper: true });
    await store.close();
    const before = await snapshot();
    const alerts = [
      'relay_user=bob; relay_id=A; command=FLATTENEVERYTHING;',
      'relay_user=bob; relay_id=Z; command=CANCELALLORDERS;',
      JSON.stringify({
        relay_user: 'bob',
        relay_id: 'B',
        command: 'PLACE',
        account: 'Sim101',
        instrument: 'ES 03-26',
        action: 'BUY',
        qty: 1,
        order_type: 'MARKET',
        tif: 'DAY',
        prev_market_position: 'flat',
        market_position: 'long',
      }),
      entry('A'),
      exit('A', { extra: 'key=other-key; relay_secret=hunter2; relay_alert_id=9' }),
      entry('A').replace('relay_user=bob', 'relay_user=paula'),
      'relay_user=paula; relay_id=P; command=FLATTENEVERYTHING;',
      `${entry('C')}\n\n${entry('D')}`,
    ];
    for (const alert of alerts) {
      const result = await testAlert(alert);
      expect(result.stdout + result.stderr).not.toContain(USER_KEY);
      expect(result.stdout + result.stderr).not.toContain('hunter2');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a database that does not exist, naming it, and does not create it', async () => {
    const missing = `${rig.config.dbPath}.missing.db`;
    const result = await runCli(['test-alert', '--db', missing], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: no database at ${missing}: run npx trade-relay add-user first, or set RELAY_HOME / RELAY_DB / --db\n`);
    expect(fs.existsSync(missing)).toBe(false);
  });
});
