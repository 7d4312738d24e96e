import pino, { type Logger } from 'pino';

/** A logger whose lines (parsed JSON) land in `lines`, for asserting what the notifier logged. */
export function notifyLog(): { logger: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines, text: () => lines.map((line) => JSON.stringify(line)).join('\n') };
}
