import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuProfileArgs } from './cpu-profile-args.js';

// BENCH_RELAY_CLI runs another build of the relay (say, a candidate change in a copy of dist/) in the same bench.
export const RELAY_CLI = path.resolve(process.env.BENCH_RELAY_CLI ?? path.resolve(import.meta.dirname, '../dist/cli/main.js'));
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/**
 * Runs the built relay as production does (`node dist/cli/main.js start`) in its own process,
 * with its console output going to a file, and measures the start-up: from spawn to the first
 * 200 from GET /health. `settings` become RELAY_* variables; `cpuProfileDir` adds --cpu-prof;
 * `cli` runs another build of the relay; `nodeArgs` go to node (say, `--heap-prof`). With
 * `databaseUrl` the relay runs on that PostgreSQL database (RELAY_DATABASE_URL) instead of `dbFile`.
 */
export async function startRelayProcess({
  name,
  dir,
  dbFile,
  databaseUrl = null,
  crosstradeApiUrl,
  settings = {},
  cpuProfileDir = null,
  cli = RELAY_CLI,
  nodeArgs = [],
}) {
  const logFile = path.join(dir, `${name}.log`);
  const consoleFile = path.join(dir, `${name}.stdout`);
  const out = fs.openSync(consoleFile, 'w');
  const profile = cpuProfileArgs(cpuProfileDir, `relay-${name}`);
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...profile, ...nodeArgs, cli, 'start', '--port', '0', '--host', '127.0.0.1'], {
    env: {
      ...inheritedEnv(),
      RELAY_DB: dbFile,
      ...(databaseUrl === null ? {} : { RELAY_DATABASE_URL: databaseUrl }),
      RELAY_LOG_FILE: logFile,
      CROSSTRADE_API_URL: crosstradeApiUrl,
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'info',
      ...settings,
    },
    // The console is a file, as under a service manager: a pipe nobody reads would stall the relay.
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));

  const port = await waitForPort([consoleFile, logFile], child, 10_000);
  const listeningMs = performance.now() - spawnedAt;
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, 10_000);
  const startupMs = performance.now() - spawnedAt;

  return {
    name,
    url,
    pid: child.pid,
    dbFile,
    logFile,
    startupMs,
    listeningMs,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The bench's environment without any relay setting that could change what is measured. */
function inheritedEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(RELAY_|CROSSTRADE_|LOG_LEVEL$)/.test(name)));
}

/** The port from the "relay listening" line, looked for in the console output and in the log file. */
async function waitForPort(files, child, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  const read = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}:\n${read(files[0])}`);
    const line = files.flatMap((file) => read(file).split('\n')).find((l) => l.includes('"relay listening"'));
    if (line !== undefined) return JSON.parse(line).port;
    await sleep(2);
  }
  throw new Error(`relay did not log "relay listening" within ${timeoutMs} ms`);
}

async function waitForHealth(url, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await getStatus(`${url}/health`)) === 200) return;
    await sleep(2);
  }
  throw new Error(`${url}/health did not answer 200 within ${timeoutMs} ms`);
}

function getStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
  });
}
