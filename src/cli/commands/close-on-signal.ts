import type { CliIo } from './cli-io.js';

/**
 * Keeps a server up until SIGINT (Ctrl+C) or SIGTERM, then awaits `close` and exits 0.
 * A second signal while closing exits 1 at once, so a stuck close never traps the user.
 */
export function closeOnSignal(close: () => Promise<void>, io: CliIo): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      io.err(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        io.err(`error: shutdown failed (${error instanceof Error ? error.message : String(error)})`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
