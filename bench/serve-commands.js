import readline from 'node:readline';

/**
 * Answers JSON-line commands `{id, cmd, ...args}` read from stdin with `{id, result}` or
 * `{id, error}` lines on stdout. The parent (spawn-ready.js) sends them between measured runs.
 */
export function serveCommands(handlers) {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { id, cmd, ...args } = JSON.parse(line);
    const handler = handlers[cmd];
    const answer = handler === undefined ? { id, error: `unknown command ${cmd}` } : { id, result: handler(args) ?? null };
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  });
  // The parent went away: do not linger.
  lines.on('close', () => process.exit(0));
}
