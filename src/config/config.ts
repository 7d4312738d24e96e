import path from 'node:path';
import { z } from 'zod';
import { isAllowSpec, parseAddressList } from './address-list.js';
import { ConfigError } from './config-error.js';
import { HOME_FILES, type Home } from './home.js';
import { isSecureOrLocalUrl } from './is-secure-or-local-url.js';
import { notifySchemaShape } from './notify-schema.js';

/** TradingView cancels a webhook after 3 s (docs/external-systems.md §1.1); the two outbound calls must fit well inside it. */
export const TRADINGVIEW_TIMEOUT_MS = 3000;
export const OUTBOUND_BUDGET_MS = 2500;

/** TradingView resends an alert answered 5xx 5 s later, up to 3 times: one trigger can arrive over about 25 s. */
export const TRADINGVIEW_RESEND_SPAN_SECONDS = 25;
/** CrossTrade's longest `cancel_after` (minutes, docs/external-systems.md §2.5). */
const LONGEST_CANCEL_AFTER_SECONDS = 60 * 60;

/** A whole number in a range, from a number or its decimal text; every failure in plain words (issue 8, case 9). */
const integer = (min: number, max: number, minMessage?: string) => {
  const plain = `must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v.trim()) : v),
    z
      .number({ error: plain })
      .int(plain)
      .min(min, minMessage ?? plain)
      .max(max, plain),
  );
};
const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])], { error: 'must be true or false' })
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** TradingView's webhook senders (docs/external-systems.md §1.1) and loopback: the default allow-list of /webhook. */
export const TRADINGVIEW_WEBHOOK_IPS = ['52.89.214.238', '34.212.75.30', '54.218.53.128', '52.32.178.7'] as const;
export const DEFAULT_WEBHOOK_ALLOW = [...TRADINGVIEW_WEBHOOK_IPS, '127.0.0.0/8', '::1'].join(',');

// Settings that would defeat a guarantee of the relay are refused with the reason (issue case 16):
// - RELAY_FILL_GRACE_SECONDS: a flat reading right after a forward does not prove the position flat
//   (0 let 40 simultaneous contested entries through twice), and the hold starts when the order is
//   sent, so it must outlast the forward: see fillGraceNeededSeconds.
// - RELAY_RESTING_GRACE_SECONDS: below 60 minutes an entry resting without cancel_after would be held
//   shorter than one with CrossTrade's longest cancel_after.
// - RELAY_DEDUP_SECONDS: 1-24 lets a TradingView resend through; 0 is a deliberate "off" (see configWarnings).
// - RELAY_TRUST_PROXY: "*" or a /0 range believes anyone's X-Forwarded-For, so anyone passes the allow-list.
// - CROSSTRADE_API_URL: plain http off this machine would send users' CrossTrade keys in clear.
// Not refused, on purpose: RELAY_POSITION_CACHE_MS larger than the fill grace. A cached reading keeps
// the time it was requested, and a flat reading counts only if it was requested after the owner's
// hold ended, so a long cache can only block a contested entry longer, never let one through early.
const configSchema = z
  .object({
    port: integer(0, 65535).default(8080),
    host: z.string().min(1, 'must not be empty').default('0.0.0.0'),
    dbPath: z.string().min(1).default('./trade_relay.db'),
    // PostgreSQL for several instances (issue 10); unset, the SQLite file above. Never echoed: it may hold a password.
    databaseUrl: z
      .string()
      .refine(
        (url) => /^postgres(ql)?:\/\/[^\s]+$/.test(url),
        'must be a postgres:// (or postgresql://) URL, e.g. postgres://relay:secret@db.example:5432/relay',
      )
      .optional(),
    logFile: z.string().default('./trade_relay.log'),
    logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    crosstradeApiUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://app.crosstrade.io' })
      .default('https://app.crosstrade.io')
      .refine(
        isSecureOrLocalUrl,
        'CROSSTRADE_API_URL must use https unless it is on this machine (localhost, 127.0.0.0/8, ::1): every position check sends a CrossTrade key',
      ),
    adminToken: z.string().min(16, 'RELAY_ADMIN_TOKEN must be at least 16 characters').optional(),
    fillGraceSeconds: integer(
      1,
      3600,
      'RELAY_FILL_GRACE_SECONDS must be at least 1: a flat reading right after an order is forwarded does not prove the position flat',
    ).default(10),
    restingGraceSeconds: integer(
      LONGEST_CANCEL_AFTER_SECONDS,
      7 * 24 * 3600,
      `RELAY_RESTING_GRACE_SECONDS must be at least ${LONGEST_CANCEL_AFTER_SECONDS}: an entry resting without cancel_after can fill later than one with the longest cancel_after (60 minutes), and a shorter hold lets another strategy in while it may still fill`,
    ).default(8 * 3600),
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
      .refine((v) => v === '' || isAllowSpec(v), 'must be comma-separated IP addresses and CIDR ranges')
      .refine(
        (v) => !trustsEveryone(v),
        'RELAY_TRUST_PROXY must list the proxy addresses, not "*" or a /0 range: any sender could then set X-Forwarded-For and pose as TradingView, past RELAY_WEBHOOK_ALLOW and the rate limit',
      ),
    rateLimitPerMin: integer(0, 1_000_000).default(600),
    // CrossTrade's API budget per CrossTrade user (docs/external-systems.md §3.2): bursts of 20, refilled at this rate.
    apiCallsPerMin: integer(0, 1_000_000).default(180),
    // 0 turns duplicate detection off: allowed as a deliberate choice, reported by configWarnings.
    dedupSeconds: integer(0, 3600)
      .default(30)
      .refine(
        // A negative value gets the range reason alone.
        (v) => v <= 0 || v >= TRADINGVIEW_RESEND_SPAN_SECONDS,
        `RELAY_DEDUP_SECONDS must be 0 (off) or at least ${TRADINGVIEW_RESEND_SPAN_SECONDS}: TradingView resends an alert answered 5xx 5 s later, up to 3 times, so one trigger can arrive over about ${TRADINGVIEW_RESEND_SPAN_SECONDS} s; a shorter window lets a resend through`,
      ),
    // What a decision survives before its order leaves (src/store/sqlite: Durability; README "Power cuts").
    durability: z.enum(['power-cut', 'full', 'crash'], { error: 'must be one of power-cut, full, crash' }).default('power-cut'),
    // Several instances on PostgreSQL (issue 10): an instance silent this long is stopped, and the
    // survivors close what it left. Shorter finds a stopped one sooner but may judge one that only
    // stalled (a long pause of its machine): its orders in flight are then put in doubt.
    instanceTimeoutSeconds: integer(2, 600).default(5),
    logRetentionDays: integer(1, 36_500).default(90),
    logMaxMegabytes: integer(1, 10_000).default(20),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    tlsClientCa: z.string().optional(),
    tlsVerifyTradingView: flag.default(false),
    ...notifySchemaShape,
  })
  // Runs even when another setting failed to parse, so that every problem is listed at once; a
  // rule is skipped only when one of its own settings is already reported.
  .superRefine(
    (c, ctx) => {
      const failed = new Set(ctx.issues.map((issue) => issue.path?.[0]));
      const rule = (keys: readonly (keyof typeof c)[], broken: boolean, message: string, path: (keyof typeof c)[] = []) => {
        if (broken && !keys.some((key) => failed.has(key))) ctx.addIssue({ code: 'custom', message, path, input: c });
      };
      rule(['tlsCert', 'tlsKey'], (c.tlsCert === undefined) !== (c.tlsKey === undefined), 'RELAY_TLS_CERT and RELAY_TLS_KEY go together: set both or neither');
      rule(
        ['tlsVerifyTradingView', 'tlsCert'],
        c.tlsVerifyTradingView && c.tlsCert === undefined,
        'RELAY_TLS_VERIFY_TRADINGVIEW needs TLS: set RELAY_TLS_CERT and RELAY_TLS_KEY',
      );
      const telegram = [c.notifyTelegramToken, c.notifyTelegramChat];
      rule(
        ['notifyTelegramToken', 'notifyTelegramChat'],
        telegram.includes(undefined) && !telegram.every((v) => v === undefined),
        'RELAY_NOTIFY_TELEGRAM_TOKEN and RELAY_NOTIFY_TELEGRAM_CHAT go together: set both or neither',
      );
      const email = [c.notifySmtpUrl, c.notifyEmailTo];
      rule(
        ['notifySmtpUrl', 'notifyEmailTo'],
        email.includes(undefined) && !email.every((v) => v === undefined),
        'RELAY_NOTIFY_SMTP_URL and RELAY_NOTIFY_EMAIL_TO go together: set both or neither',
      );
      rule(
        ['notifyEmailFrom', 'notifySmtpUrl'],
        c.notifyEmailFrom !== undefined && c.notifySmtpUrl === undefined,
        'RELAY_NOTIFY_EMAIL_FROM needs RELAY_NOTIFY_SMTP_URL',
      );
      rule(
        ['apiTimeoutMs', 'forwardTimeoutMs'],
        c.apiTimeoutMs + c.forwardTimeoutMs > OUTBOUND_BUDGET_MS,
        `RELAY_API_TIMEOUT_MS + RELAY_FORWARD_TIMEOUT_MS must be at most ${OUTBOUND_BUDGET_MS} ms, so the reply reaches TradingView inside its 3 s`,
      );
      const needed = fillGraceNeededSeconds(c.forwardTimeoutMs);
      rule(
        ['fillGraceSeconds', 'forwardTimeoutMs'],
        c.fillGraceSeconds < needed,
        `RELAY_FILL_GRACE_SECONDS must be at least ${needed} with RELAY_FORWARD_TIMEOUT_MS=${c.forwardTimeoutMs}: the hold starts when the order is sent and must last 1 s past the moment CrossTrade can still take it, or a flat reading taken meanwhile clears a fresh owner`,
        ['fillGraceSeconds'],
      );
    },
    { when: () => true },
  );

export type Config = z.infer<typeof configSchema> & {
  /** The data folder the defaults of the database and log came from (absent in tests that build a config by hand). */
  home?: Home;
};

/** Environment variable of each setting; a command-line flag of the same name wins over it. */
const ENV_NAMES: Record<keyof z.infer<typeof configSchema>, string> = {
  port: 'RELAY_PORT',
  host: 'RELAY_HOST',
  dbPath: 'RELAY_DB',
  databaseUrl: 'RELAY_DATABASE_URL',
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
  apiCallsPerMin: 'RELAY_API_CALLS_PER_MIN',
  dedupSeconds: 'RELAY_DEDUP_SECONDS',
  durability: 'RELAY_DURABILITY',
  instanceTimeoutSeconds: 'RELAY_INSTANCE_TIMEOUT_SECONDS',
  logRetentionDays: 'RELAY_LOG_RETENTION_DAYS',
  logMaxMegabytes: 'RELAY_LOG_MAX_MB',
  tlsCert: 'RELAY_TLS_CERT',
  tlsKey: 'RELAY_TLS_KEY',
  tlsClientCa: 'RELAY_TLS_CLIENT_CA',
  tlsVerifyTradingView: 'RELAY_TLS_VERIFY_TRADINGVIEW',
  notifyDiscordUrl: 'RELAY_NOTIFY_DISCORD_URL',
  notifyDiscordApi: 'RELAY_NOTIFY_DISCORD_API',
  notifyTelegramToken: 'RELAY_NOTIFY_TELEGRAM_TOKEN',
  notifyTelegramChat: 'RELAY_NOTIFY_TELEGRAM_CHAT',
  notifyTelegramApi: 'RELAY_NOTIFY_TELEGRAM_API',
  notifyWebhookUrl: 'RELAY_NOTIFY_WEBHOOK_URL',
  notifySmtpUrl: 'RELAY_NOTIFY_SMTP_URL',
  notifyEmailTo: 'RELAY_NOTIFY_EMAIL_TO',
  notifyEmailFrom: 'RELAY_NOTIFY_EMAIL_FROM',
  notifyEvents: 'RELAY_NOTIFY_EVENTS',
};

/** The variable names a settings file may hold: the same as the environment's. */
export const SETTING_NAMES: readonly string[] = Object.values(ENV_NAMES);

/** The command-line flag of the settings that have one: an error names the flag when the value came from it. */
const FLAG_NAMES: Partial<Record<keyof Config, string>> = { port: '--port', host: '--host', dbPath: '--db', databaseUrl: '--database-url' };

type SchemaKey = keyof typeof ENV_NAMES;
export type ConfigFlags = Partial<Record<SchemaKey, string | number | undefined>>;

export interface ConfigOptions {
  /**
   * The data folder: the database and the log default to files in it, and relative paths resolve
   * against `cwd`. Without it (tests) they default to ./trade_relay.db and ./trade_relay.log.
   */
  home?: Home;
  cwd?: string;
  /** How to name a variable that did not come from the environment, e.g. `RELAY_PORT (settings.env line 2)`. */
  labels?: Record<string, string>;
}

/**
 * Builds the configuration: flag over environment variable over default. Pure: only
 * `cli/` passes it `process.env`. Throws ConfigError listing every problem, each named by the flag or
 * variable the value came from.
 */
export function loadConfig(env: Record<string, string | undefined>, flags: ConfigFlags = {}, options: ConfigOptions = {}): Config {
  const raw: Record<string, unknown> = {};
  const labels = new Map<SchemaKey, string>();
  for (const [name, envName] of Object.entries(ENV_NAMES) as [SchemaKey, string][]) {
    const fromFlag = flags[name];
    const value = fromFlag ?? emptyToUndefined(env[envName]);
    if (value !== undefined) raw[name] = value;
    labels.set(name, (fromFlag !== undefined ? FLAG_NAMES[name] : undefined) ?? options.labels?.[envName] ?? envName);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path[0] as SchemaKey | undefined;
        if (key === undefined) return issue.message;
        // Never echo a value back (the admin token). A reason that names its variable first keeps its
        // wording, with the name of where the value came from.
        const envName = ENV_NAMES[key];
        const label = labels.get(key) ?? envName;
        if (issue.message.startsWith(`${envName} `)) return `${label}${issue.message.slice(envName.length)}`;
        return `${label}: ${issue.message}`;
      }),
    );
  }
  const config: Config = result.data;
  if (options.home === undefined) return config;
  const cwd = options.cwd ?? process.cwd();
  return {
    ...config,
    home: options.home,
    dbPath: path.resolve(cwd, raw.dbPath === undefined ? path.join(options.home.dir, HOME_FILES.database) : config.dbPath),
    logFile: config.logFile === '' ? '' : path.resolve(cwd, raw.logFile === undefined ? path.join(options.home.dir, HOME_FILES.log) : config.logFile),
  };
}

/**
 * The least fill grace, in whole seconds, for a forward timeout: the hold is stamped when the order
 * is sent and CrossTrade may take it as late as the timeout, after which a flat reading must still
 * not count for 1 s (the fill lag RELAY_FILL_GRACE_SECONDS exists for).
 */
export function fillGraceNeededSeconds(forwardTimeoutMs: number): number {
  return Math.ceil((forwardTimeoutMs + 1000) / 1000);
}

/**
 * Settings accepted but giving up a protection on purpose, one line each, for the start-up log:
 * RELAY_DEDUP_SECONDS=0 (a TradingView resend is forwarded again), RELAY_RATE_LIMIT_PER_MIN=0 and
 * RELAY_WEBHOOK_ALLOW=*.
 */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.dedupSeconds === 0) {
    warnings.push(
      'RELAY_DEDUP_SECONDS=0: copies of an alert are not recognised; only the position rules and the CrossTrade check stand between a resend and a second order',
    );
  }
  if (config.rateLimitPerMin === 0) warnings.push('RELAY_RATE_LIMIT_PER_MIN=0: /webhook has no rate limit');
  if (config.apiCallsPerMin === 0)
    warnings.push("RELAY_API_CALLS_PER_MIN=0: position reads are not held to CrossTrade's API budget (past it CrossTrade answers 429)");
  if (parseAddressList(config.webhookAllow).any) warnings.push('RELAY_WEBHOOK_ALLOW=*: /webhook accepts alerts from any address');
  if (config.notifyWebhookUrl !== undefined && !isSecureOrLocalUrl(config.notifyWebhookUrl)) {
    warnings.push('RELAY_NOTIFY_WEBHOOK_URL is plain http off this machine: notifications (and any token in that URL) travel in clear');
  }
  return warnings;
}

/** `*` or a range with prefix 0 (0.0.0.0/0, ::/0): every address. Unreadable specs are reported elsewhere. */
function trustsEveryone(spec: string): boolean {
  if (spec === '' || !isAllowSpec(spec)) return false;
  return spec.split(',').some((entry) => {
    const [, bits] = entry.trim().split('/');
    return entry.trim() === '*' || (bits !== undefined && Number(bits) === 0);
  });
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
