import type { Command } from 'commander';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { closeOnSignal } from './close-on-signal.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { listenHint } from './listen-hint.js';
import { commandSettings } from './with-store.js';

interface StartOptions {
  port?: string;
  host?: string;
  db?: string;
  home?: string;
}

export function registerStart(program: Command, io: CliIo): void {
  program
    .command('start')
    .description('run the relay (stops cleanly on Ctrl+C / SIGTERM)')
    .argument('[unexpected...]')
    .option('--port <n>', 'port to listen on (RELAY_PORT, default 8080; TradingView delivers to 80 and 443 only)')
    .option('--host <host>', 'address to bind (RELAY_HOST, default 0.0.0.0)')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (unexpected: string[], options: StartOptions) => {
      if (unexpected.length > 0) throw new CliError(unexpectedArguments(unexpected));
      const notices: string[] = [];
      const settings = commandSettings(options, (line) => notices.push(line), { port: options.port, host: options.host });
      const { config } = settings;
      // Loaded here, not at the top: the server stack doubles the start-up time of every other command.
      const { startRelay } = await import('../../start-relay.js');
      const relay = await startRelay(config, {
        console: true,
        notices,
        adminTokenFrom: settings.sourceOf('RELAY_ADMIN_TOKEN'),
        settingsFile: settings.settingsFile,
      }).catch((error: unknown) => {
        throw listenHint(error, config.host, config.port) ?? error;
      });
      closeOnSignal(() => relay.close(), io);
    });
}

/** `npm start --port 80` (without `--`) hands the relay a stray `80`: say how npm wants it. */
function unexpectedArguments(args: string[]): string {
  const viaNpm = process.env.npm_lifecycle_event === 'start';
  // npm swallows `--port` and passes its value on: a lone number is the port the trader meant.
  const port = args.length === 1 && /^\d+$/.test(args[0] ?? '') ? args[0] : '80';
  const hint = viaNpm
    ? `npm keeps flags written before "--" for itself: write npm start -- --port ${port}`
    : `flags are written --port ${port} or --host 0.0.0.0`;
  return `start takes no arguments, got "${args.join(' ')}": ${hint}`;
}
