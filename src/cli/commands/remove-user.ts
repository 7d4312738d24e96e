import type { Command } from 'commander';
import { checkName } from './check-name.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';

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
      if (!(await withStore(options, (store) => store.removeUser(relayUser)))) throw new CliError(`unknown relay_user "${relayUser}"`);
      io.out(`user ${relayUser} removed`);
    });
}
