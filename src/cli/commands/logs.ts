import type { Command } from 'commander';
import { logView } from '../../http/views.js';
import { checkName } from './check-name.js';
import type { CliIo } from './cli-io.js';
import { formatTable } from './format-table.js';
import { integerOption } from './integer-option.js';
import { DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';

export function registerLogs(program: Command, io: CliIo): void {
  program
    .command('logs')
    .description('show the signal log, newest first')
    .argument('[relay_user]', 'only this user')
    .option('--limit <n>', 'how many rows, 1-10000', integerOption('--limit', 1, 10_000), 50)
    .option('--json', 'print JSON {"logs": [...]}')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .action((name: string | undefined, options: { limit: number; json?: boolean; home?: string; db?: string }) => {
      const relayUser = name === undefined ? undefined : checkName(name);
      const logs = withStore(options, (store) => store.listLogs({ relayUser, limit: options.limit })).map(logView);
      if (options.json) return io.out(JSON.stringify({ logs }, null, 2));
      if (logs.length === 0) return io.out('no log entries');
      const rows = logs.map((l) => [l.time, l.decision, l.signal_type, l.relay_user, l.relay_id, l.account, l.instrument, l.reason].map((cell) => cell ?? '-'));
      formatTable(['time', 'decision', 'signal_type', 'relay_user', 'relay_id', 'account', 'instrument', 'reason'], rows).forEach(io.out);
    });
}
