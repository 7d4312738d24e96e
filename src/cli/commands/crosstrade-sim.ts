import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { closeOnSignal } from './close-on-signal.js';
import { integerOption } from './integer-option.js';
import { listenHint } from './listen-hint.js';

interface SimOptions {
  port: number;
  host: string;
  key: string;
  quiet?: boolean;
  notConnected?: boolean;
}

export function registerCrosstradeSim(program: Command, io: CliIo): void {
  program
    .command('crosstrade-sim')
    .description('run a local CrossTrade simulator (for trying the relay without a broker)')
    .option('--port <n>', 'port to listen on', integerOption('--port', 0, 65_535), 8090)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--key <key>', 'the key the simulator accepts', 'sim-key')
    .option('--quiet', 'do not print each order and the book after it')
    .option('--not-connected', 'answer 408 as CrossTrade does while NinjaTrader is not connected (the API and the webhook)')
    .action(async (options: SimOptions) => {
      const { host, port, key, quiet, notConnected } = options;
      const { runSimulator } = await import('../../simulator/run-simulator.js'); // loaded only when used, like start's server
      const simulator = await runSimulator({ host, port, key, quiet, notConnected, print: io.out }).catch((error: unknown) => {
        throw listenHint(error, host, port) ?? error;
      });
      closeOnSignal(() => simulator.close(), io);
    });
}
