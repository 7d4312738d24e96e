import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Config, configWarnings, OUTBOUND_BUDGET_MS } from './config/config.js';
import { HOME_FILES } from './config/home.js';
import { tradingViewUrlAdvice } from './config/tradingview-url.js';
import { createCrossTradeClient } from './crosstrade/client.js';
import { createPaperCrossTrade } from './paper/create-paper-crosstrade.js';
import { buildServer, type TlsOptions } from './http/build-server.js';
import { createLogger, flatLineLogger, type Logger } from './log/logger.js';
import { createChannels } from './notify/create-channels.js';
import { createNotifier, type NotifierOptions } from './notify/create-notifier.js';
import { ADMIN_TOKEN_SETTING, ensureAdminToken, recordAdminTokenSource } from './relay/admin-token.js';
import { createApiBudget } from './relay/create-api-budget.js';
import type { RelayDeps } from './relay/handle-alert.js';
import { openStore } from './store/open-store.js';
import { maskDatabaseUrl } from './store/postgres/mask-database-url.js';
import { startCheckpointer } from './store/sqlite/start-checkpointer.js';
import type { InstanceRecord, Store } from './store/store.js';

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
  /** Lines to log at start, e.g. that an earlier version's database was moved into the data folder. */
  notices?: string[];
  /** Where RELAY_ADMIN_TOKEN came from, when it is set: named in the start-up log, the token never. */
  adminTokenFrom?: 'environment' | 'settings file' | null;
  /** The settings file read for this start (null: none). */
  settingsFile?: { path: string; exists: boolean };
  /** This machine's network interfaces, for the TradingView URL (default os.networkInterfaces()). */
  interfaces?: ReturnType<typeof os.networkInterfaces>;
  /** Tests: shorter grouping windows, retries and queues than the notifier's defaults. */
  notify?: Pick<NotifierOptions, 'groupWindowMs' | 'queueCapacity' | 'retry' | 'closeTimeoutMs'>;
}

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
  let store: Store;
  try {
    store = await openStore(config, {
      now,
      walAutocheckpointPages: 10_000,
      durability: config.durability,
      onBackgroundError: (error) => logger.error({ err: error }, 'writing alert outcomes failed; retrying'),
      instances: {
        timeoutMs: config.instanceTimeoutSeconds * 1000,
        sweep: {
          reason: (instance) => stoppedReason(instance, config.instanceTimeoutSeconds),
          onClosed: (closed) =>
            logger.warn(
              {
                instances: closed.instances.map((i) => ({ id: i.id, host: i.host, pid: i.pid, silent_s: Math.round((Date.now() - i.lastSeen) / 1000) })),
                alerts: closed.logs,
                keys: closed.keys,
              },
              'a relay instance stopped: the alerts it was forwarding are logged as unknown and its keys in flight checked against CrossTrade before their next order',
            ),
        },
        onPresumedStopped: () =>
          logger.warn(
            { timeout_s: config.instanceTimeoutSeconds },
            'this instance was silent past the instance timeout and another one took it for stopped: its orders in flight were put in doubt; it registered again',
          ),
        onHeartbeatError: (error) =>
          logger.error(
            { err: error, timeout_s: config.instanceTimeoutSeconds },
            'the instance heartbeat failed: if the database stays away past the instance timeout, the other instances take this one for stopped',
          ),
      },
    });
  } catch (error) {
    await closeLog();
    throw error;
  }
  const stopCheckpointer = store.kind === 'sqlite' ? startCheckpointer(config.dbPath) : async () => undefined;
  for (const notice of options.notices ?? []) logger.warn(notice);
  let interrupted = 0;
  try {
    interrupted = await store.closeInterruptedForwards(INTERRUPTED_REASON);
    if (interrupted > 0)
      logger.warn({ count: interrupted }, 'alerts were being forwarded when the relay last stopped; their outcome is unknown (logged as unknown)');
    if (config.adminToken === undefined && (await ensureAdminToken(store)).generated) {
      logger.warn('generated an admin token for the management API and stored it in the database: show it with `npx trade-relay admin-token`');
    }
    // `admin-token`, run from another shell, cannot see this process's environment: it reads this.
    await recordAdminTokenSource(store, config.adminToken === undefined ? 'stored' : 'RELAY_ADMIN_TOKEN', now());
  } catch (error) {
    await stopCheckpointer();
    await store.close();
    await closeLog();
    throw error;
  }
  // Notifications leave from their own queues, never on an alert's path (README, "Notifications").
  const { channels, secrets } = createChannels(config);
  const notifier = createNotifier({ channels, secrets, events: config.notifyEvents, logger, now, ...options.notify });
  const stopMaintenance = startMaintenance(store, logger, config, now);
  const crosstrade = createCrossTradeClient({
    apiBaseUrl: config.crosstradeApiUrl,
    apiTimeoutMs: config.apiTimeoutMs,
    forwardTimeoutMs: config.forwardTimeoutMs,
    positionCacheMs: config.positionCacheMs,
    now,
    // RELAY_API_CALLS_PER_MIN=0: no budget kept (CrossTrade's 429 is then the only limit).
    ...(config.apiCallsPerMin > 0 ? { spendApiCall: createApiBudget({ store, logger, now, callsPerMin: config.apiCallsPerMin }) } : {}),
  });
  const relay: RelayDeps = {
    store,
    crosstrade,
    paper: createPaperCrossTrade({ store, now }),
    settings: { fillGraceMs: config.fillGraceSeconds * 1000, restingGraceMs: config.restingGraceSeconds * 1000 },
    budget: { outboundMs: OUTBOUND_BUDGET_MS, apiTimeoutMs: config.apiTimeoutMs, forwardTimeoutMs: config.forwardTimeoutMs },
    inFlight: new Map(),
    handling: new Set(),
    logger,
    decisionLogger: flatLineLogger(logger),
    now,
    dedupWindowMs: config.dedupSeconds * 1000,
    notifier,
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
    await store.close();
    await crosstrade.close();
    await notifier.close();
    await closeLog();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `${config.tlsCert ? 'https' : 'http'}://${displayHost(config.host)}:${port}`;
  logStartup(logger, config, port, url, options);
  if (channels.length > 0) {
    logger.info({ channels: channels.map((c) => c.name), events: config.notifyEvents }, `notifications to ${channels.map((c) => c.name).join(', ')}`);
  }
  notifier.relayEvent('relay_started', `listening on port ${port}`);
  if (interrupted > 0) {
    notifier.relayEvent(
      'reconcile_needed',
      `${interrupted} alert(s) were being forwarded when the relay last stopped: their orders may have been placed; check the positions in NinjaTrader`,
    );
  }

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
        // ...but not for an alert whose sender hung up: its forward still runs, and its outcome
        // must reach the store before it closes. Bounded: an alert's outbound calls end within
        // OUTBOUND_BUDGET_MS, its database calls within their own budget.
        await settledWithin(relay.handling ?? new Set(), SHUTDOWN_WAIT_MS);
        await crosstrade.close();
        await stopCheckpointer();
        // What is still unfinished then (a forward past the bound, a decision whose store call
        // timed out after its commit) is logged unknown now rather than left pending.
        await store.close(INTERRUPTED_REASON);
        // Bounded: a channel that hangs holds the shutdown 2 s at most.
        notifier.relayEvent('relay_stopped', 'the relay was stopped');
        await notifier.close();
        logger.info('relay stopped');
        await closeLog();
      })()),
  };
}

export const INTERRUPTED_REASON =
  'outcome-unknown: interrupted, the relay stopped before CrossTrade answered; the order may have been sent: the next alert of this position is checked against CrossTrade';
const HOUR_MS = 3_600_000;
/** How long a relay stopping waits for the alerts it is handling (ms): an alert's outbound budget and a store call's, with room. */
const SHUTDOWN_WAIT_MS = OUTBOUND_BUDGET_MS + 2000;

/** Resolves once every promise of `pending` (as it is now) has settled, or after `ms`. */
async function settledWithin(pending: ReadonlySet<Promise<unknown>>, ms: number): Promise<void> {
  if (pending.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled([...pending]), expired]);
  clearTimeout(timer);
}

/** The reason a stopped instance's unfinished forward is logged `unknown` with (several instances on PostgreSQL). */
export function stoppedReason(instance: InstanceRecord | null, timeoutSeconds: number): string {
  const who = instance === null ? 'a relay instance' : `the relay instance on ${instance.host} (pid ${instance.pid})`;
  return `outcome-unknown: interrupted, ${who} stopped before CrossTrade answered (no heartbeat for ${timeoutSeconds} s); the order may have been sent: the next alert of this position is checked against CrossTrade`;
}

/** Prunes the signal log past its retention (at start, then hourly) and old duplicate fingerprints. */
function startMaintenance(store: Store, logger: Logger, config: Config, now: () => number): () => void {
  const run = async () => {
    try {
      const pruned = await store.prune({ logsBefore: now() - config.logRetentionDays * 24 * HOUR_MS, fingerprintsBefore: now() - HOUR_MS });
      if (pruned.logs > 0) logger.info({ rows: pruned.logs, retention_days: config.logRetentionDays }, 'signal log pruned');
    } catch (error) {
      logger.error({ err: error }, 'signal log pruning failed');
    }
  };
  void run();
  const timer = setInterval(() => void run(), HOUR_MS);
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

function logStartup(logger: Logger, config: Config, port: number, url: string, options: StartOptions): void {
  // Never the password of a database URL.
  const db = config.databaseUrl === undefined ? path.resolve(config.dbPath) : `PostgreSQL ${maskDatabaseUrl(config.databaseUrl)}`;
  const home = config.home;
  logger.info(
    {
      port,
      host: config.host,
      tls: config.tlsCert !== undefined,
      db,
      ...(home ? { home: home.dir, home_source: home.source } : {}),
      crosstrade_api: config.crosstradeApiUrl,
    },
    'relay listening',
  );
  if (home) {
    const from = home.source === 'default' ? 'the default: <install folder>/data' : `set by ${home.source}`;
    const settings = options.settingsFile;
    const settingsPart = settings ? `; settings file ${settings.path}${settings.exists ? '' : ' (none yet)'}` : '';
    logger.info(`data folder ${home.dir} (${from}); database ${db}${settingsPart}`);
  } else {
    logger.info(`database ${db}`);
  }
  logger.info(adminTokenLine(config, options));
  // A new user looks for the console's address where the other addresses are.
  logger.info(`web console: ${url}/ on this machine, log in with the admin token (from another machine only over TLS, see README "Console")`);
  const settingsFile = options.settingsFile?.path ?? (home ? path.join(home.dir, HOME_FILES.settings) : 'settings.env');
  const advice = tradingViewUrlAdvice({
    tls: config.tlsCert !== undefined,
    host: config.host,
    port,
    interfaces: options.interfaces ?? os.networkInterfaces(),
    settingsFile,
  });
  for (const line of advice) logger[line.level](line.message);
  if (config.webhookAllow !== '*') logger.info(`alerts accepted only from RELAY_WEBHOOK_ALLOW: ${config.webhookAllow}`);
  for (const warning of configWarnings(config)) logger.warn(warning);
}

/** Names the admin token in effect by its source, never by its value. */
function adminTokenLine(config: Config, options: StartOptions): string {
  if (config.adminToken === undefined) {
    return 'admin token: the one stored in the database (print it with `npx trade-relay admin-token`)';
  }
  const from = options.adminTokenFrom === 'settings file' ? `the settings file ${options.settingsFile?.path ?? ''}`.trim() : 'the environment';
  return `admin token: RELAY_ADMIN_TOKEN from ${from} (the token stored in the database is not accepted)`;
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
