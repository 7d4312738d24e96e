import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { createCrossTradeClient } from './crosstrade/client.js';
import { buildServer } from './http/build-server.js';
import { createLogger, type Logger } from './log/logger.js';
import type { RelayDeps } from './relay/handle-alert.js';
import { createSqliteStore } from './store/sqlite/create-sqlite-store.js';
import type { Store } from './store/store.js';

export interface RunningRelay {
  /** Base URL the relay answers on, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  app: FastifyInstance;
  store: Store;
  logger: Logger;
  /** Stops accepting, lets alerts in flight finish, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Also log to the console (the CLI does; tests do not). */
  console?: boolean;
  now?: () => number;
}

/** TradingView delivers webhooks to ports 80 and 443 only (reference fact 1). */
export const TRADINGVIEW_PORTS: readonly number[] = [80, 443];

/** The composition root: store → CrossTrade client → HTTP server → listen. */
export async function startRelay(config: Config, options: StartOptions = {}): Promise<RunningRelay> {
  const now = options.now ?? Date.now;
  const { logger, close: closeLog } = createLogger({ level: config.logLevel, file: config.logFile, console: options.console ?? false });
  const store = createSqliteStore(config.dbPath, { now });
  const crosstrade = createCrossTradeClient({
    apiBaseUrl: config.crosstradeApiUrl,
    apiTimeoutMs: config.apiTimeoutMs,
    forwardTimeoutMs: config.forwardTimeoutMs,
    positionCacheMs: config.positionCacheMs,
    now,
  });
  const relay: RelayDeps = {
    store,
    crosstrade,
    settings: { fillGraceMs: config.fillGraceSeconds * 1000, restingGraceMs: config.restingGraceSeconds * 1000 },
    logger,
    now,
  };
  const app = buildServer({ relay, adminToken: () => config.adminToken, logger, now });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    store.close();
    await crosstrade.close();
    await closeLog();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `http://${displayHost(config.host)}:${port}`;
  logStartup(logger, config, port);

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    app,
    store,
    logger,
    close: () =>
      (closing ??= (async () => {
        await app.close(); // waits for requests in flight
        await crosstrade.close();
        store.close();
        logger.info('relay stopped');
        await closeLog();
      })()),
  };
}

function logStartup(logger: Logger, config: Config, port: number): void {
  const publicHost = config.host === '0.0.0.0' || config.host === '::' ? 'YOUR_VPS_IP' : config.host;
  const portPart = port === 80 ? '' : `:${port}`;
  logger.info({ port, host: config.host, db: config.dbPath, crosstrade_api: config.crosstradeApiUrl }, 'relay listening');
  logger.info(`TradingView webhook URL: http://${publicHost}${portPart}/webhook`);
  if (!TRADINGVIEW_PORTS.includes(port)) {
    logger.warn(
      `port ${port} is neither 80 nor 443: TradingView only delivers webhooks to ports 80 and 443. ` +
        'Run with --port 80, serve HTTPS on 443, or put a reverse proxy on 80/443 in front of this port (see README, "TradingView and ports").',
    );
  }
  if (config.adminToken === undefined) {
    logger.warn('the management API is closed: set RELAY_ADMIN_TOKEN (16+ characters) and restart to use /users, /positions and /logs');
  }
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
