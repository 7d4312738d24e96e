import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const CLI = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface SpawnedRelay {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the built relay (`node dist/cli/main.js start`) as its own process on a free loopback
 * port and resolves once it logs that it listens. `npm test` builds dist/ first.
 */
export async function spawnRelay(env: Record<string, string>): Promise<SpawnedRelay> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--host', '127.0.0.1'], {
    // Its own data folder beside the database: no settings.env of the install folder is read.
    env: { ...process.env, LOG_LEVEL: 'info', ...(env.RELAY_DB ? { RELAY_HOME: path.dirname(env.RELAY_DB) } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${out}`)), 10_000);
    const check = () => {
      const line = out.split('\n').find((l) => l.includes('"relay listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
