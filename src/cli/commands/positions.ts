import type { Command } from 'commander';
import { positionView } from '../../http/views.js';
import { checkName } from './check-name.js';
import type { CliIo } from './cli-io.js';
import { formatTable } from './format-table.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';

export function registerPositions(program: Command, io: CliIo): void {
  program
    .command('positions')
    .description('list the positions the relay holds ownership of')
    .argument('[relay_user]', 'only this user')
    .option('--json', 'print JSON {"positions": [...]}')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (name: string | undefined, options: { json?: boolean; home?: string; db?: string }) => {
      const relayUser = name === undefined ? undefined : checkName(name);
      const positions = (await withStore(options, (store) => store.listPositions(relayUser))).map(positionView);
      if (options.json) return io.out(JSON.stringify({ positions }, null, 2));
      if (positions.length === 0) return io.out('no open positions');
      const rows = positions.map((p) => [
        p.relay_user,
        p.account,
        p.instrument,
        p.instrument_key,
        p.relay_id,
        p.direction,
        p.opened_at,
        p.hold_until,
        p.doubt ?? '',
      ]);
      formatTable(['relay_user', 'account', 'instrument', 'key', 'relay_id', 'direction', 'opened', 'hold_until', 'doubt'], rows).forEach(io.out);
    });
}
