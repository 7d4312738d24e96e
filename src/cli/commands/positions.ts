import type { Command } from 'commander';
import { positionView } from '../../http/views.js';
import { checkName } from './check-name.js';
import type { CliIo } from './cli-io.js';
import { formatTable } from './format-table.js';
import { withStore } from './with-store.js';

export function registerPositions(program: Command, io: CliIo): void {
  program
    .command('positions')
    .description('list the positions the relay holds ownership of')
    .argument('[relay_user]', 'only this user')
    .option('--json', 'print JSON {"positions": [...]}')
    .option('--db <path>', 'SQLite file (RELAY_DB, default ./trade_relay.db)')
    .action((name: string | undefined, options: { json?: boolean; db?: string }) => {
      const relayUser = name === undefined ? undefined : checkName(name);
      const positions = withStore(options.db, (store) => store.listPositions(relayUser)).map(positionView);
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
