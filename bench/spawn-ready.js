import { spawn } from 'node:child_process';
import readline from 'node:readline';

/**
 * Runs `node [...nodeArgs] script ...args` as a child that prints `{"ready": …}` once it serves,
 * then speaks the JSON-line protocol of serve-commands.js. Resolves with the ready value, the pid,
 * `command(cmd, args)` and `stop()`. Rejects if the child exits or stays silent for 10 s.
 */
export async function spawnReady(script, args = [], nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map();
  let nextId = 1;
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 10 s`)), 10_000);
    void exited.then((code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line);
      if (message.ready !== undefined) {
        clearTimeout(timer);
        resolve(message.ready);
        return;
      }
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error !== undefined) pending?.reject(new Error(message.error));
      else pending?.resolve(message.result);
    });
  });

  return {
    ready,
    pid: child.pid,
    command(cmd, args = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}
