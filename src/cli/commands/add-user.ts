import type { Command } from 'commander';
import type { z } from 'zod';
import { maskUrl } from '../../http/mask.js';
import { crosstradeKeySchema, firstIssue, relaySecretSchema, relayUserSchema, webhookUrlSchema, webhookUrlWarning } from '../../http/schemas.js';
import { hashRelaySecret } from '../../relay/relay-secret.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { maskDatabaseUrl } from '../../store/postgres/mask-database-url.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { commandSettings, withStore } from './with-store.js';
import type { Store } from '../../store/store.js';
import { recordAdminAction } from '../../relay/record-admin-action.js';

interface AddUserOptions {
  user?: string;
  key?: string;
  webhookUrl?: string;
  secret?: string;
  paper?: boolean;
  home?: string;
  db?: string;
}

export function registerAddUser(program: Command, io: CliIo): void {
  program
    .command('add-user')
    .description('create or update a relay user (prompts for what is missing)')
    .option('--user <relay_user>', 'the relay_user name the alerts carry')
    .option('--key <crosstrade_key>', 'the CrossTrade secret key (a flag stays in shell history: leave it out to be prompted)')
    .option('--webhook-url <url>', 'the CrossTrade webhook URL')
    .option('--secret <passphrase>', 'require alerts for this user to carry relay_secret=<passphrase>; (it is stored hashed)')
    .option('--paper', 'paper mode: alerts are arbitrated and logged as usual, orders go to a paper book inside the relay, never to CrossTrade')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (options: AddUserOptions) => {
      // Settings first, so a bad environment fails before the user types anything.
      const { config } = commandSettings(options, io.err);
      const given = {
        user: checked(relayUserSchema, options.user),
        key: checked(crosstradeKeySchema, options.key),
        url: checked(webhookUrlSchema, options.webhookUrl),
        secret: checked(relaySecretSchema, options.secret),
      };
      const missing = given.user === undefined || given.key === undefined || given.url === undefined;
      if (missing && !process.stdin.isTTY) {
        throw new CliError('--user, --key and --webhook-url are required when not run interactively');
      }
      const relayUser = given.user ?? (await askRelayUser());
      const crosstradeKey = given.key ?? (await askKey());
      const webhookUrl = given.url ?? (await askWebhookUrl());
      const relaySecret = given.secret === undefined ? null : hashRelaySecret(given.secret);
      const warning = webhookUrlWarning(webhookUrl);
      if (warning !== null) io.err(`warning: ${warning}`);
      const paper = options.paper === true;
      const save = async (store: Store) => {
        const saved = await store.saveUser({ relayUser, crosstradeKey, webhookUrl, relaySecret, paper });
        await recordAdminAction(store, { action: `user ${saved}`, relayUser, via: 'on the command line', source: null, time: Date.now() });
        return saved;
      };
      const outcome = await withStore(options, save, {
        create: true,
        notice: io.err,
      });
      // Never the password of a database URL.
      const where = config.databaseUrl === undefined ? config.dbPath : `PostgreSQL ${maskDatabaseUrl(config.databaseUrl)}`;
      io.out(`user ${relayUser} ${outcome} in ${where}${paper ? ' (paper mode: orders go to the paper book, not to CrossTrade)' : ''}`);
    });
}

// The prompt library loads only when a prompt is needed: `start` and scripted use skip its ~60 ms.
const prompts = () => import('@inquirer/prompts');

async function askRelayUser(): Promise<string> {
  const { input } = await prompts();
  return (await input({ message: 'relay_user:', validate: validator(relayUserSchema) })).trim();
}

async function askKey(): Promise<string> {
  const { password } = await prompts();
  return (await password({ message: 'CrossTrade key:', mask: '*', toggleMask: false, validate: validator(crosstradeKeySchema) })).trim();
}

async function askWebhookUrl(): Promise<string> {
  const { input } = await prompts();
  const answer = await input({
    message: 'CrossTrade webhook URL:',
    validate: validator(webhookUrlSchema),
    // The path is the secret: once answered, the terminal keeps only the masked form.
    transformer: (value, { isFinal }) => (isFinal ? maskUrl(value.trim()) : value),
  });
  return answer.trim();
}

/** A flag's value, trimmed and valid, or undefined when not given; throws CliError when invalid. */
function checked(schema: z.ZodType<string>, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const result = schema.safeParse(value.trim());
  if (!result.success) throw new CliError(firstIssue(result.error));
  return result.data;
}

function validator(schema: z.ZodType<string>): (value: string) => true | string {
  return (value) => {
    const result = schema.safeParse(value.trim());
    return result.success || firstIssue(result.error);
  };
}
