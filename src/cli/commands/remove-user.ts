import type { Command } from 'commander';
import { checkName } from './check-name.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';
import { recordAdminAction } from '../../relay/record-admin-action.js';

export function registerRemoveUser(program: Command, io: CliIo): void {
  program
    .command('remove-user')
    .description('remove a relay user and its positions (its signal log stays)')
    .argument('<relay_user>')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (name: string, options: { home?: string; db?: string }) => {
      const relayUser = checkName(name);
      const removed = await withStore(options, async (store) => {
        if (!(await store.removeUser(relayUser))) return false;
        await recordAdminAction(store, { action: 'user removed', relayUser, via: 'on the command line', source: null, time: Date.now() });
        return true;
      });
      if (!removed) throw new CliError(`unknown relay_user "${relayUser}"`);
      io.out(`user ${relayUser} removed`);
    });
}
