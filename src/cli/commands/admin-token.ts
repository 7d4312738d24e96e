import type { Command } from 'commander';
import { ensureAdminToken, readAdminTokenSource, rotateAdminToken } from '../../relay/admin-token.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';

interface AdminTokenOptions {
  rotate?: boolean;
  home?: string;
  db?: string;
}

/**
 * Prints the one token a relay on this data folder accepts (issue 8, case 2): RELAY_ADMIN_TOKEN when
 * this command's settings (environment or settings.env) set it, else the stored one, unless the
 * relay last started on this database took RELAY_ADMIN_TOKEN from an environment this command
 * cannot see: then it prints none rather than one the relay would refuse (and count toward the lockout).
 */
export function registerAdminToken(program: Command, io: CliIo): void {
  program
    .command('admin-token')
    .description('print the management API token a relay on this data folder accepts; --rotate replaces the stored one')
    .option('--rotate', 'replace the stored token: the old one stops working at once, also in a running relay')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (options: AdminTokenOptions) => {
      await withStore(options, async (store, settings) => {
        const recorded = await readAdminTokenSource(store);
        const fromSettings = settings.config.adminToken;
        if (fromSettings !== undefined) {
          const where = settings.sourceOf('RELAY_ADMIN_TOKEN') === 'settings file' ? `in ${settings.settingsFile.path}` : 'in this environment';
          if (options.rotate) {
            throw new CliError(`RELAY_ADMIN_TOKEN is set ${where}, so a relay uses it and not a stored token: change RELAY_ADMIN_TOKEN instead of rotating`);
          }
          io.out(fromSettings);
          io.err(`RELAY_ADMIN_TOKEN is set ${where}: a relay started with these settings accepts it (the token stored in the database is not used)`);
          if (recorded?.source === 'stored') {
            io.err(`note: the relay last started on this data folder (${recorded.since}) did not have it and uses the stored token until it restarts`);
          }
          return;
        }
        if (recorded?.source === 'RELAY_ADMIN_TOKEN') {
          throw new CliError(
            `the relay last started on this data folder (${recorded.since}) uses RELAY_ADMIN_TOKEN from its own environment and refuses the ` +
              'stored token, so none is printed. Use the RELAY_ADMIN_TOKEN value it was started with, or put RELAY_ADMIN_TOKEN=<token> in ' +
              `${settings.settingsFile.path} so that the relay and every command share it`,
          );
        }
        io.out(options.rotate ? await rotateAdminToken(store) : (await ensureAdminToken(store)).token);
      });
    });
}
