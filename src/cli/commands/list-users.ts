import type { Command } from 'commander';
import { userView } from '../../http/views.js';
import type { CliIo } from './cli-io.js';
import { formatTable } from './format-table.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';

export function registerListUsers(program: Command, io: CliIo): void {
  program
    .command('list-users')
    .description('list relay users (keys and webhook URLs masked)')
    .option('--json', 'print JSON {"users": [...]}')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (options: { json?: boolean; home?: string; db?: string }) => {
      const users = (await withStore(options, (store) => store.listUsers())).map(userView);
      if (options.json) return io.out(JSON.stringify({ users }, null, 2));
      if (users.length === 0) return io.out('no users');
      const rows = users.map((u) => [u.relay_user, u.paper ? 'paper' : 'live', u.crosstrade_key, u.webhook_url, u.relay_secret ?? '-', u.created_at]);
      formatTable(['relay_user', 'mode', 'crosstrade_key', 'webhook_url', 'relay_secret', 'created'], rows).forEach(io.out);
    });
}
