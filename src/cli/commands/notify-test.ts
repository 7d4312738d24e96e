import type { Command } from 'commander';
import { loadSettings } from '../../config/load-settings.js';
import { createChannels } from '../../notify/create-channels.js';
import { sendTestMessage } from '../../notify/send-test-message.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { HOME_HELP } from './data-options.js';

const SETTINGS =
  'RELAY_NOTIFY_DISCORD_URL, RELAY_NOTIFY_TELEGRAM_TOKEN + RELAY_NOTIFY_TELEGRAM_CHAT, RELAY_NOTIFY_WEBHOOK_URL, RELAY_NOTIFY_SMTP_URL + RELAY_NOTIFY_EMAIL_TO';

/** `trade-relay notify-test`: one test message to every configured channel, a line per result; exit 1 when any failed or none is set. */
export function registerNotifyTest(program: Command, io: CliIo): void {
  program
    .command('notify-test')
    .description('send a test notification to every configured channel (Discord, Telegram, webhook, e-mail) and report each result')
    .option('--home <dir>', HOME_HELP)
    .action(async (options: { home?: string }) => {
      const settings = loadSettings({ env: process.env, home: options.home });
      const { channels, secrets } = createChannels(settings.config);
      if (channels.length === 0)
        throw new CliError(`no notification channel is configured: set ${SETTINGS} in ${settings.settingsFile.path} or the environment`);
      const results = await sendTestMessage(channels, secrets, Date.now());
      for (const result of results) {
        // The error already names its channel: "telegram: HTTP 401 (Unauthorized)".
        io.out(result.ok ? `${result.channel}: sent` : `${result.channel}: NOT SENT: ${(result.error ?? '').replace(`${result.channel}: `, '')}`);
      }
      const failed = results.filter((result) => !result.ok).length;
      if (failed > 0) throw new CliError(`${failed} of ${results.length} notification channel${results.length === 1 ? '' : 's'} failed`);
    });
}
