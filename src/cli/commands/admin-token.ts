import type { Command } from 'commander';
import { ADMIN_TOKEN_SETTING, ensureAdminToken, rotateAdminToken } from '../../relay/admin-token.js';
import type { CliIo } from './cli-io.js';
import { withStore } from './with-store.js';

export function registerAdminToken(program: Command, io: CliIo): void {
  program
    .command('admin-token')
    .description('print the management API token kept in the database (generated if there is none); --rotate replaces it')
    .option('--rotate', 'replace the token: the old one stops working at once, also in a running relay')
    .option('--db <path>', 'SQLite file (RELAY_DB, default ./trade_relay.db)')
    .action((options: { rotate?: boolean; db?: string }) => {
      const token = withStore(options.db, (store) => (options.rotate ? rotateAdminToken(store) : ensureAdminToken(store).token));
      io.out(token);
      if (process.env.RELAY_ADMIN_TOKEN) {
        io.err(`note: RELAY_ADMIN_TOKEN is set in this environment; a relay started with it uses that token, not the stored "${ADMIN_TOKEN_SETTING}"`);
      }
    });
}
