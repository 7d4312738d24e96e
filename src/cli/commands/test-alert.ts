import fs from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { OUTBOUND_BUDGET_MS } from '../../config/config.js';
import { createCrossTradeClient } from '../../crosstrade/client.js';
import { createPaperCrossTrade } from '../../paper/create-paper-crosstrade.js';
import { type AlertPreview, previewAlert } from '../../relay/preview-alert.js';
import type { CrossTradePort, RelayDeps } from '../../relay/relay-deps.js';
import { openStore } from '../../store/open-store.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { DATABASE_URL_HELP, DB_HELP, HOME_HELP } from './data-options.js';
import { commandSettings } from './with-store.js';
import { withExplanation } from '../../crosstrade/explain-reason.js';

interface TestAlertOptions {
  file?: string;
  check: boolean;
  home?: string;
  db?: string;
}

export function registerTestAlert(program: Command, io: CliIo): void {
  program
    .command('test-alert')
    .description('read an alert as the relay would and show what it would do now; forwards and records nothing')
    .option('--file <file>', 'the alert message (default: read it from stdin)')
    .option('--no-check', 'do not read CrossTrade (or the paper book) even when the decision needs it')
    .option('--home <dir>', HOME_HELP)
    .option('--db <path>', DB_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .action(async (options: TestAlertOptions) => {
      const { config } = commandSettings(options, io.err);
      const dbPath = config.dbPath;
      if (config.databaseUrl === undefined && !fs.existsSync(dbPath))
        throw new CliError(`no database at ${dbPath}: run npx trade-relay add-user first, or set RELAY_HOME / RELAY_DB / --db`);
      const text = await readAlertText(options.file);
      const store = await openStore(config);
      const client = createCrossTradeClient({
        apiBaseUrl: config.crosstradeApiUrl,
        apiTimeoutMs: config.apiTimeoutMs,
        forwardTimeoutMs: config.forwardTimeoutMs,
        positionCacheMs: 0,
      });
      try {
        const deps: RelayDeps = {
          store,
          crosstrade: readOnly(client),
          paper: readOnly(createPaperCrossTrade({ store })),
          settings: { fillGraceMs: config.fillGraceSeconds * 1000, restingGraceMs: config.restingGraceSeconds * 1000 },
          budget: { outboundMs: OUTBOUND_BUDGET_MS, apiTimeoutMs: config.apiTimeoutMs, forwardTimeoutMs: config.forwardTimeoutMs },
          dedupWindowMs: config.dedupSeconds * 1000,
          logger: pino({ level: 'silent' }),
          decisionLogger: pino({ level: 'silent' }),
          now: Date.now,
          inFlight: new Map(),
        };
        const preview = await previewAlert(deps, { text, json: false }, { read: options.check });
        describePreview(preview).forEach(io.out);
        if (preview.kind === 'rejected') process.exitCode = 1;
      } finally {
        await client.close();
        await store.close();
      }
    });
}

/** A port that can read but never send: test-alert must not place an order, whatever a later change does. */
function readOnly(port: CrossTradePort): CrossTradePort {
  return {
    readPosition: port.readPosition,
    forward: () => Promise.reject(new Error('test-alert never forwards')),
    forget: () => undefined,
  };
}

async function readAlertText(file: string | undefined): Promise<string> {
  if (file !== undefined) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  if (process.stdin.isTTY) throw new CliError('give the alert with --file <file>, or pipe it in: npx trade-relay test-alert < alert.txt');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The preview as a trader reads it: one fact a line. Keys and secrets appear masked only. */
export function describePreview(preview: AlertPreview): string[] {
  if (preview.kind === 'rejected') {
    const who = preview.relayUser === null ? '' : ` (relay_user ${preview.relayUser}, relay_id ${preview.relayId})`;
    return [`decision now:   rejected, HTTP ${preview.status}: ${preview.reason}${who}`, 'nothing was forwarded or recorded'];
  }
  const { signal } = preview;
  const move = signal.from === null ? '' : ` (${signal.from} → ${signal.direction ?? 'flat'})`;
  const lines = [
    `relay_user:     ${preview.relayUser}${preview.paper ? ' (paper mode: orders go to the paper book)' : ''}`,
    `relay_id:       ${preview.relayId}`,
    `signal:         ${preview.signalType}${move}`,
    `key:            ${preview.keys.length === 0 ? '(none: no position is affected)' : preview.keys.map((k) => `${preview.relayUser} / ${k.account} / ${k.instrumentKey}`).join(', ')}`,
    `would forward:  ${preview.forward}`,
    `to:             ${preview.paper ? 'the paper book (nothing goes to CrossTrade)' : preview.webhookUrl}`,
  ];
  // CrossTrade's codes in words, as `logs` and the application log give them (issue 8, "Logs a trader can read").
  for (const reading of preview.readings) lines.push(`position check: ${withExplanation(reading)}`);
  const d = preview.decision;
  if (d.kind === 'decided') lines.push(`decision now:   would be ${d.decision}: ${withExplanation(d.reason)}`);
  else if (d.kind === 'needs-reading') lines.push(`decision now:   needs a position check first (${d.reason}); run without --no-check to read it`);
  else lines.push(`decision now:   would wait for an order in flight on this key (${d.reason}), then decide`);
  lines.push('nothing was forwarded or recorded');
  return lines;
}
