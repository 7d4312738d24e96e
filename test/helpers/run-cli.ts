import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';

// Runs the real, built CLI (`npm test` builds first) as a child process.

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_MAIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/**
 * `node dist/cli/main.js ...args`. Stdin is a pipe (not a TTY) that is left open, so a command
 * that waited for input would hang and be killed at the timeout (code null).
 */
export function runCli(args: string[], options: CliRunOptions): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts the CLI and returns at once: for `start` and `crosstrade-sim`, which run until a signal. */
export function spawnCli(args: string[], options: CliRunOptions): ChildProcess {
  return spawn(process.execPath, [CLI_MAIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: options.env, stdio: 'pipe' });
}

/** Resolves with the first stdout line that matches; rejects if the process ends first. */
export function waitForLine(child: ChildProcess, matches: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => done(new Error(`no matching line within ${timeoutMs} ms; got:\n${buffer}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const line = buffer.split('\n').find(matches);
      if (line !== undefined) done(null, line);
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before a matching line; got:\n${buffer}`));
    const done = (error: Error | null, line?: string) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(line ?? '');
    };
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

/** The exit code once the process has ended (null when a signal killed it). */
export function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

export interface CliSandbox {
  dir: string;
  /** RELAY_DB of `env` */
  dbPath: string;
  /**
   * The parent's environment without any relay setting, plus a temp RELAY_HOME (so no settings.env of
   * the install folder is read), RELAY_DB (created empty: commands other than add-user and start refuse
   * a missing one) and RELAY_LOG_FILE.
   */
  env: NodeJS.ProcessEnv;
  run(args: string[], options?: Partial<CliRunOptions>): Promise<CliResult>;
  spawn(args: string[], options?: Partial<CliRunOptions>): ChildProcess;
  /** Kills what `spawn` started and is still running, and removes the temp directory. */
  cleanup(): void;
}

export function createCliSandbox(): CliSandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trade-relay-cli-'));
  const dbPath = path.join(dir, 'relay.db');
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(RELAY_|CROSSTRADE_|LOG_LEVEL$)/.test(name)));
  env.RELAY_HOME = dir;
  env.RELAY_DB = dbPath;
  // Creates the file at once; closing the handle finishes a moment later, which nothing here waits for.
  void createSqliteStore(dbPath).close();
  env.RELAY_LOG_FILE = path.join(dir, 'relay.log');
  const children: ChildProcess[] = [];
  return {
    dir,
    dbPath,
    env,
    run: (args, options = {}) => runCli(args, { env, ...options }),
    spawn: (args, options = {}) => {
      const child = spawnCli(args, { env, ...options });
      children.push(child);
      return child;
    },
    cleanup: () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
