import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear: keys, tokens and webhook URLs must never
 * reach a log line. Alerts are logged only after their key field is removed (signal/format-alert.ts);
 * this is the second line of defence.
 */
export const REDACT_PATHS = [
  'key',
  '*.key',
  'crosstradeKey',
  '*.crosstradeKey',
  'crosstrade_key',
  '*.crosstrade_key',
  'webhookUrl',
  '*.webhookUrl',
  'webhook_url',
  '*.webhook_url',
  'token',
  '*.token',
  'adminToken',
  'relaySecret',
  'relay_secret',
  '*.relay_secret',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

/**
 * A logger for lines whose fields are all top-level and known (the per-alert decision line):
 * wildcard redaction costs about 28 µs a line (bench/RESULTS.md), top-level paths almost nothing.
 */
export function flatLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: REDACT_PATHS.filter((path) => !path.includes('*')), censor: '[redacted]' } });
}

export interface LoggerOptions {
  level: string;
  /** Application log file; '' logs to the console only. */
  file: string;
  /** Also write to stdout (the console). */
  console: boolean;
  /** Rotate the file when it reaches this size: file → file.1 → … → file.N (default 20 MB). */
  maxBytes?: number;
  /** Rotated files kept (default 5). */
  keepFiles?: number;
}

export interface AppLogger {
  logger: Logger;
  /** Flushes and closes the log file. */
  close(): Promise<void>;
}

/** JSON lines to the log file and the console, with secrets redacted. */
export function createLogger(options: LoggerOptions): AppLogger {
  const streams: pino.StreamEntry[] = [];
  if (options.console) streams.push({ level: options.level as pino.Level, stream: consoleStream() });
  let file: ReturnType<typeof pino.destination> | null = null;
  if (options.file !== '') {
    fs.mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    file = pino.destination({ dest: options.file, sync: false, mkdir: true });
    streams.push({ level: options.level as pino.Level, stream: rotating(file, options.file, options.maxBytes ?? 20 * 1024 * 1024, options.keepFiles ?? 5) });
  }
  const logger = pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    streams.length > 0 ? pino.multistream(streams) : { write: () => undefined },
  );
  return { logger, close: () => closeDestination(file) };
}

/** Readable single lines for a person at a terminal; JSON lines when stdout is a pipe or a service log. */
function consoleStream(): pino.DestinationStream {
  if (!process.stdout.isTTY) return process.stdout;
  return pretty({ colorize: true, singleLine: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss', ignore: 'pid,hostname', destination: 1 });
}

/** Counts what is written and rolls the file over at `maxBytes`, keeping `keep` old files. */
function rotating(destination: ReturnType<typeof pino.destination>, file: string, maxBytes: number, keep: number): pino.DestinationStream {
  let bytes = fs.existsSync(file) ? fs.statSync(file).size : 0;
  const rotate = () => {
    // The file opens asynchronously (at start and after each rotation): roll it once it exists.
    if (!fs.existsSync(file)) return;
    try {
      for (let n = keep - 1; n >= 1; n--) {
        if (fs.existsSync(`${file}.${n}`)) fs.renameSync(`${file}.${n}`, `${file}.${n + 1}`);
      }
      fs.renameSync(file, `${file}.1`);
      destination.reopen();
      bytes = 0;
    } catch {
      // A failed rotation must never stop the relay: keep writing to the current file.
    }
  };
  return {
    write(chunk: string) {
      // A late line (a pool's idle client failing as the relay stops) must not throw once the file is closed.
      if ((destination as { destroyed?: boolean }).destroyed === true) return;
      destination.write(chunk);
      bytes += Buffer.byteLength(chunk);
      if (bytes >= maxBytes) rotate();
    },
  };
}

function closeDestination(file: ReturnType<typeof pino.destination> | null): Promise<void> {
  if (file === null) return Promise.resolve();
  return new Promise((resolve) => {
    const end = () => {
      file.once('close', () => resolve());
      file.once('error', () => resolve());
      file.end();
    };
    // The file opens asynchronously: wait for it before ending, or the end races the open.
    const state = file as unknown as { fd: number; _opening?: boolean };
    if (state.fd === -1 || state._opening) file.once('ready', end);
    else end();
  });
}
