import type { Command } from 'commander';
import { clearPositionSchema, firstIssue } from '../../http/schemas.js';
import { instrumentKey } from '../../signal/instrument.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { withStore } from './with-store.js';
import { recordAdminAction } from '../../relay/record-admin-action.js';

export function registerClearPosition(program: Command, io: CliIo): void {
  program
    .command('clear-position')
    .description("forget a position's owner (e.g. after closing it by hand in NinjaTrader)")
    .argument('<relay_user>')
    .argument('<account>')
    .argument('<instrument>', 'any form: RTY, RTYH26, RTY 03-26, CME_MINI:RTY1!')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (relayUser: string, account: string, instrument: string, options: { home?: string; db?: string }) => {
      const parsed = clearPositionSchema.safeParse({ relay_user: relayUser, account, instrument });
      if (!parsed.success) throw new CliError(firstIssue(parsed.error));
      const body = parsed.data;
      // Same key as the relay and POST /positions/clear use: the product root.
      const key = instrumentKey(body.instrument, new Date().getUTCFullYear()) ?? body.instrument.toUpperCase();
      const label = `${body.relay_user} / ${body.account} / ${key}`;
      const cleared = await withStore(options, async (store) => {
        if (!(await store.clearPosition({ relayUser: body.relay_user, account: body.account, instrumentKey: key }))) return false;
        const action = { action: 'position cleared', relayUser: body.relay_user, account: body.account, instrument: key };
        await recordAdminAction(store, { ...action, via: 'on the command line', source: null, time: Date.now() });
        return true;
      });
      if (!cleared) throw new CliError(`no position for ${label}`);
      io.out(`cleared ${label}`);
    });
}
