import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import type { CliIo } from './cli-io.js';
import { closeOnSignal } from './close-on-signal.js';
import { listenHint } from './listen-hint.js';

interface StartOptions {
  port?: string;
  host?: string;
  db?: string;
}

export function registerStart(program: Command, io: CliIo): void {
  program
    .command('start')
    .description('run the relay (stops cleanly on Ctrl+C / SIGTERM)')
    .option('--port <n>', 'port to listen on (RELAY_PORT, default 8080)')
    .option('--host <host>', 'address to bind (RELAY_HOST, default 0.0.0.0)')
    .option('--db <path>', 'SQLite file (RELAY_DB, default ./trade_relay.db)')
    .action(async (options: StartOptions) => {
      const config = loadConfig(process.env, { port: options.port, host: options.host, dbPath: options.db });
      // Loaded here, not at the top: the server stack doubles the start-up time of every other command.
      const { startRelay } = await import('../../start-relay.js');
      const relay = await startRelay(config, { console: true }).catch((error: unknown) => {
        throw listenHint(error, config.host, config.port) ?? error;
      });
      closeOnSignal(() => relay.close(), io);
    });
}
