import { z } from 'zod';
import { isAllowSpec } from './address-list.js';
import { ConfigError } from './config-error.js';

/** TradingView cancels a webhook after 3 s (reference fact 2); the two outbound calls must fit well inside it. */
export const TRADINGVIEW_TIMEOUT_MS = 3000;
export const OUTBOUND_BUDGET_MS = 2500;

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** TradingView's webhook senders (reference §1.1) and loopback: the default allow-list of /webhook. */
export const TRADINGVIEW_WEBHOOK_IPS = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'] as const;
export const DEFAULT_WEBHOOK_ALLOW = [...TRADINGVIEW_WEBHOOK_IPS, '127.0.0.0/8', '::1'].join(',');

const configSchema = z
  .object({
    port: integer(0, 65535).default(8080),
    host: z.string().min(1).default('0.0.0.0'),
    dbPath: z.string().min(1).default('./trade_relay.db'),
    logFile: z.string().default('./trade_relay.log'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    crosstradeApiUrl: z.url({ protocol: /^https?$/ }).default('https://app.crosstrade.io'),
    adminToken: z.string().min(16, 'RELAY_ADMIN_TOKEN must be at least 16 characters').optional(),
    fillGraceSeconds: integer(0, 3600).default(10),
    restingGraceSeconds: integer(0, 7 * 24 * 3600).default(8 * 3600),
    apiTimeoutMs: integer(50, OUTBOUND_BUDGET_MS).default(1000),
    forwardTimeoutMs: integer(50, OUTBOUND_BUDGET_MS).default(1500),
    positionCacheMs: integer(0, 10_000).default(1000),
    webhookAllow: z
      .string()
      .default(DEFAULT_WEBHOOK_ALLOW)
      .refine(isAllowSpec, 'RELAY_WEBHOOK_ALLOW must be "*" or comma-separated IP addresses and CIDR ranges'),
    trustProxy: z
      .string()
      .default('')
      .refine((v) => v === '' || isAllowSpec(v), 'must be comma-separated IP addresses and CIDR ranges'),
    rateLimitPerMin: integer(0, 1_000_000).default(600),
    dedupSeconds: integer(0, 3600).default(3),
    logRetentionDays: integer(1, 36_500).default(90),
    logMaxMegabytes: integer(1, 10_000).default(20),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    tlsClientCa: z.string().optional(),
    tlsVerifyTradingView: flag.default(false),
  })
  .refine((c) => (c.tlsCert === undefined) === (c.tlsKey === undefined), {
    message: 'RELAY_TLS_CERT and RELAY_TLS_KEY go together: set both or neither',
  })
  .refine((c) => !c.tlsVerifyTradingView || c.tlsCert !== undefined, {
    message: 'RELAY_TLS_VERIFY_TRADINGVIEW needs TLS: set RELAY_TLS_CERT and RELAY_TLS_KEY',
  })
  .refine((c) => c.apiTimeoutMs + c.forwardTimeoutMs <= OUTBOUND_BUDGET_MS, {
    message: `RELAY_API_TIMEOUT_MS + RELAY_FORWARD_TIMEOUT_MS must be at most ${OUTBOUND_BUDGET_MS} ms, so the reply reaches TradingView inside its 3 s`,
  });

export type Config = z.infer<typeof configSchema>;

/** Environment variable of each setting; a command-line flag of the same name wins over it. */
const ENV_NAMES: Record<keyof Config, string> = {
  port: 'RELAY_PORT',
  host: 'RELAY_HOST',
  dbPath: 'RELAY_DB',
  logFile: 'RELAY_LOG_FILE',
  logLevel: 'LOG_LEVEL',
  crosstradeApiUrl: 'CROSSTRADE_API_URL',
  adminToken: 'RELAY_ADMIN_TOKEN',
  fillGraceSeconds: 'RELAY_FILL_GRACE_SECONDS',
  restingGraceSeconds: 'RELAY_RESTING_GRACE_SECONDS',
  apiTimeoutMs: 'RELAY_API_TIMEOUT_MS',
  forwardTimeoutMs: 'RELAY_FORWARD_TIMEOUT_MS',
  positionCacheMs: 'RELAY_POSITION_CACHE_MS',
  webhookAllow: 'RELAY_WEBHOOK_ALLOW',
  trustProxy: 'RELAY_TRUST_PROXY',
  rateLimitPerMin: 'RELAY_RATE_LIMIT_PER_MIN',
  dedupSeconds: 'RELAY_DEDUP_SECONDS',
  logRetentionDays: 'RELAY_LOG_RETENTION_DAYS',
  logMaxMegabytes: 'RELAY_LOG_MAX_MB',
  tlsCert: 'RELAY_TLS_CERT',
  tlsKey: 'RELAY_TLS_KEY',
  tlsClientCa: 'RELAY_TLS_CLIENT_CA',
  tlsVerifyTradingView: 'RELAY_TLS_VERIFY_TRADINGVIEW',
};

export type ConfigFlags = Partial<Record<keyof Config, string | number | undefined>>;

/**
 * Builds the configuration: flag over environment variable over default. Pure: only
 * `cli/` passes it `process.env`. Throws ConfigError listing every problem.
 */
export function loadConfig(env: Record<string, string | undefined>, flags: ConfigFlags = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [name, envName] of Object.entries(ENV_NAMES) as [keyof Config, string][]) {
    const value = flags[name] ?? emptyToUndefined(env[envName]);
    if (value !== undefined) raw[name] = value;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path[0] as keyof Config | undefined;
        // Never echo the admin token back in the error.
        return key === undefined ? issue.message : `${ENV_NAMES[key]}: ${issue.message}`;
      }),
    );
  }
  return result.data;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
