import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { type Config, configWarnings, OUTBOUND_BUDGET_MS } from './config/config.js';
import { createCrossTradeClient } from './crosstrade/client.js';
import { buildServer, type TlsOptions } from './http/build-server.js';
import { createLogger, flatLineLogger, type Logger } from './log/logger.js';
import { ADMIN_TOKEN_SETTING, ensureAdminToken } from './relay/admin-token.js';
import type { RelayDeps } from './relay/handle-alert.js';
import { createSqliteStore } from './store/sqlite/create-sqlite-store.js';
import { startCheckpointer } from './store/sqlite/start-checkpointer.js';
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

/** TradingView delivers webhooks to ports 80 and 443 only (docs/external-systems.md §1.1). */
export const TRADINGVIEW_PORTS: readonly number[] = [80, 443];

/** The composition root: store → CrossTrade client → HTTP server → listen. */
export async function startRelay(config: Config, options: StartOptions = {}): Promise<RunningRelay> {
  const now = options.now ?? Date.now;
  const { logger, close: closeLog } = createLogger({
    level: config.logLevel,
    file: config.logFile,
    console: options.console ?? false,
    maxBytes: config.logMaxMegabytes * 1024 * 1024,
  });
  // WAL checkpoints run in a worker thread; a commit checkpoints itself only as a backstop.
  const store = createSqliteStore(config.dbPath, {
    now,
    walAutocheckpointPages: 10_000,
    durability: config.durability,
    onBackgroundError: (error) => logger.error({ err: error }, 'writing alert outcomes failed; retrying'),
  });
  const stopCheckpointer = startCheckpointer(config.dbPath);
  const interrupted = store.closeInterruptedForwards(INTERRUPTED_REASON);
  if (interrupted > 0)
    logger.warn({ count: interrupted }, 'alerts were being forwarded when the relay last stopped; their outcome is unknown (logged as unknown)');
  if (config.adminToken === undefined && ensureAdminToken(store).generated) {
    logger.warn('generated an admin token for the management API and stored it in the database: show it with `trade-relay admin-token`');
  }
  const stopMaintenance = startMaintenance(store, logger, config, now);
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
    budget: { outboundMs: OUTBOUND_BUDGET_MS, apiTimeoutMs: config.apiTimeoutMs, forwardTimeoutMs: config.forwardTimeoutMs },
    inFlight: new Map(),
    logger,
    decisionLogger: flatLineLogger(logger),
    now,
    dedupWindowMs: config.dedupSeconds * 1000,
  };
  const app = buildServer({
    relay,
    adminToken: () => config.adminToken ?? store.getSetting(ADMIN_TOKEN_SETTING),
    logger,
    now,
    webhookAllow: config.webhookAllow,
    trustProxy: config.trustProxy,
    rateLimitPerMin: config.rateLimitPerMin,
    tls: readTls(config),
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    stopMaintenance();
    await stopCheckpointer();
    store.close();
    await crosstrade.close();
    await closeLog();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `${config.tlsCert ? 'https' : 'http'}://${displayHost(config.host)}:${port}`;
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
        stopMaintenance();
        await app.close(); // waits for requests in flight
        await crosstrade.close();
        await stopCheckpointer();
        store.close();
        logger.info('relay stopped');
        await closeLog();
      })()),
  };
}

export const INTERRUPTED_REASON =
  'outcome-unknown: interrupted, the relay stopped before CrossTrade answered; the order may have been sent: the next alert of this position is checked against CrossTrade';
const HOUR_MS = 3_600_000;

/** Prunes the signal log past its retention (at start, then hourly) and old duplicate fingerprints. */
function startMaintenance(store: Store, logger: Logger, config: Config, now: () => number): () => void {
  const run = () => {
    try {
      const pruned = store.prune({ logsBefore: now() - config.logRetentionDays * 24 * HOUR_MS, fingerprintsBefore: now() - HOUR_MS });
      if (pruned.logs > 0) logger.info({ rows: pruned.logs, retention_days: config.logRetentionDays }, 'signal log pruned');
    } catch (error) {
      logger.error({ err: error }, 'signal log pruning failed');
    }
  };
  run();
  const timer = setInterval(run, HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function readTls(config: Config): TlsOptions | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  return {
    cert: fs.readFileSync(config.tlsCert),
    key: fs.readFileSync(config.tlsKey),
    ...(config.tlsClientCa ? { clientCa: fs.readFileSync(config.tlsClientCa) } : {}),
    verifyTradingView: config.tlsVerifyTradingView,
  };
}

function logStartup(logger: Logger, config: Config, port: number): void {
  const publicHost = config.host === '0.0.0.0' || config.host === '::' ? 'YOUR_VPS_IP' : config.host;
  const scheme = config.tlsCert ? 'https' : 'http';
  const portPart = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443) ? '' : `:${port}`;
  logger.info({ port, host: config.host, tls: scheme === 'https', db: config.dbPath, crosstrade_api: config.crosstradeApiUrl }, 'relay listening');
  logger.info(`TradingView webhook URL: ${scheme}://${publicHost}${portPart}/webhook`);
  if (config.webhookAllow !== '*') logger.info(`alerts accepted only from RELAY_WEBHOOK_ALLOW: ${config.webhookAllow}`);
  for (const warning of configWarnings(config)) logger.warn(warning);
  if (!TRADINGVIEW_PORTS.includes(port)) {
    logger.warn(
      `port ${port} is neither 80 nor 443: TradingView only delivers webhooks to ports 80 and 443. ` +
        'Run with --port 80, serve HTTPS on 443, or put a reverse proxy on 80/443 in front of this port (see README, "TradingView and ports").',
    );
  }
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
