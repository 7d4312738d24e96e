// The trade-relay command line: commander wiring only; each command lives in commands/.
// Runs on import: bin/trade-relay.js imports the compiled dist/cli/main.js.
import fs from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { registerAddUser } from './commands/add-user.js';
import { registerAdminToken } from './commands/admin-token.js';
import { registerClearPosition } from './commands/clear-position.js';
import { CliError } from './commands/cli-error.js';
import { type CliIo, processIo } from './commands/cli-io.js';
import { registerCrosstradeSim } from './commands/crosstrade-sim.js';
import { registerDoctor } from './commands/doctor.js';
import { registerListUsers } from './commands/list-users.js';
import { registerLogs } from './commands/logs.js';
import { registerMigrateDb } from './commands/migrate-db.js';
import { registerNotifyTest } from './commands/notify-test.js';
import { registerPositions } from './commands/positions.js';
import { registerRemoveUser } from './commands/remove-user.js';
import { registerService } from './commands/service.js';
import { registerStart } from './commands/start.js';
import { registerTestAlert } from './commands/test-alert.js';

function buildProgram(io: CliIo): Command {
  const program = new Command('trade-relay')
    .description('Relays TradingView alerts to CrossTrade / NinjaTrader 8, one strategy per account and instrument')
    .version(packageVersion());
  registerStart(program, io);
  registerAddUser(program, io);
  registerListUsers(program, io);
  registerRemoveUser(program, io);
  registerPositions(program, io);
  registerClearPosition(program, io);
  registerLogs(program, io);
  registerCrosstradeSim(program, io);
  registerAdminToken(program, io);
  registerService(program, io);
  registerDoctor(program, io);
  registerTestAlert(program, io);
  registerMigrateDb(program, io);
  registerNotifyTest(program, io);
  return program;
}

/** Every failure a command raises ends here: one message on stderr, exit code 1. */
function report(error: unknown, io: CliIo): void {
  if (error instanceof ConfigError) io.err(error.message);
  else if (error instanceof Error && error.name === 'ExitPromptError') io.err('cancelled');
  else if (error instanceof CliError) io.err(`error: ${error.message}`);
  else io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

function packageVersion(): string {
  // Same relative path from src/cli/ and dist/cli/.
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

try {
  await buildProgram(processIo).parseAsync(process.argv);
} catch (error) {
  report(error, processIo);
}
