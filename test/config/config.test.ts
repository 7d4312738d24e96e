import { describe, expect, it } from 'vitest';
import { configWarnings, fillGraceNeededSeconds, loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/config-error.js';

/** The problems loadConfig lists for this environment; fails when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const FILL_GRACE_ZERO = 'RELAY_FILL_GRACE_SECONDS must be at least 1: a flat reading right after an order is forwarded does not prove the position flat';
const fillGraceShort = (needed: number, forwardTimeoutMs: number) =>
  `RELAY_FILL_GRACE_SECONDS must be at least ${needed} with RELAY_FORWARD_TIMEOUT_MS=${forwardTimeoutMs}: the hold starts when the order is sent and must last 1 s past the moment CrossTrade can still take it, or a flat reading taken meanwhile clears a fresh owner`;
const DEDUP_SHORT =
  'RELAY_DEDUP_SECONDS must be 0 (off) or at least 25: TradingView resends an alert answered 5xx 5 s later, up to 3 times, so one trigger can arrive over about 25 s; a shorter window lets a resend through';
const RESTING_SHORT =
  'RELAY_RESTING_GRACE_SECONDS must be at least 3600: an entry resting without cancel_after can fill later than one with the longest cancel_after (60 minutes), and a shorter hold lets another strategy in while it may still fill';
const TRUST_EVERYONE =
  'RELAY_TRUST_PROXY must list the proxy addresses, not "*" or a /0 range: any sender could then set X-Forwarded-For and pose as TradingView, past RELAY_WEBHOOK_ALLOW and the rate limit';
const API_IN_CLEAR =
  'CROSSTRADE_API_URL must use https unless it is on this machine (localhost, 127.0.0.0/8, ::1): every position check sends a CrossTrade key';
const OUTBOUND_TOO_LONG = 'RELAY_API_TIMEOUT_MS + RELAY_FORWARD_TIMEOUT_MS must be at most 2500 ms, so the reply reaches TradingView inside its 3 s';

describe('loadConfig', () => {
  it('has working defaults on an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dbPath: './trade_relay.db',
      logFile: './trade_relay.log',
      logLevel: 'info',
      crosstradeApiUrl: 'https://app.crosstrade.io',
      fillGraceSeconds: 10,
      restingGraceSeconds: 28_800,
      apiTimeoutMs: 1000,
      forwardTimeoutMs: 1500,
      positionCacheMs: 1000,
      webhookAllow: '52.89.214.238,34.212.75.30,54.218.53.128,52.32.178.7,127.0.0.0/8,::1',
      trustProxy: '',
      rateLimitPerMin: 600,
      apiCallsPerMin: 180,
      dedupSeconds: 30,
      durability: 'power-cut',
      instanceTimeoutSeconds: 5,
      logRetentionDays: 90,
      logMaxMegabytes: 20,
      tlsVerifyTradingView: false,
      notifyDiscordApi: 'https://discord.com',
      notifyTelegramApi: 'https://api.telegram.org',
      notifyEvents: [
        'blocked',
        'dropped',
        'failed',
        'rejected',
        'stale_owner_cleared',
        'reconcile_needed',
        'crosstrade_unreachable',
        'relay_started',
        'relay_stopped',
      ],
    });
  });

  it('refuses an allow-list entry that is not an address or range', () => {
    expect(problemsOf({ RELAY_WEBHOOK_ALLOW: '10.0.0.0/8, example.com' })).toEqual([
      'RELAY_WEBHOOK_ALLOW must be "*" or comma-separated IP addresses and CIDR ranges',
    ]);
    expect(loadConfig({ RELAY_WEBHOOK_ALLOW: '*' }).webhookAllow).toBe('*');
  });

  it('needs both TLS files, and TLS for TradingView client-certificate checks', () => {
    expect(() => loadConfig({ RELAY_TLS_CERT: '/x/cert.pem' })).toThrow('RELAY_TLS_CERT and RELAY_TLS_KEY go together');
    expect(() => loadConfig({ RELAY_TLS_VERIFY_TRADINGVIEW: 'true' })).toThrow('RELAY_TLS_VERIFY_TRADINGVIEW needs TLS');
    expect(loadConfig({ RELAY_TLS_CERT: 'c', RELAY_TLS_KEY: 'k', RELAY_TLS_VERIFY_TRADINGVIEW: 'yes' }).tlsVerifyTradingView).toBe(true);
  });

  it('takes a flag over an environment variable over the default', () => {
    const env = { RELAY_PORT: '9000', RELAY_DB: '/tmp/env.db', RELAY_FILL_GRACE_SECONDS: '30' };
    const config = loadConfig(env, { port: 9100 });
    expect(config.port).toBe(9100);
    expect(config.dbPath).toBe('/tmp/env.db');
    expect(config.fillGraceSeconds).toBe(30);
  });

  it('ignores empty variables', () => {
    expect(loadConfig({ RELAY_PORT: ' ' }).port).toBe(8080);
  });

  it('refuses outbound timeouts that would not fit inside TradingView’s 3 s', () => {
    expect(() => loadConfig({ RELAY_API_TIMEOUT_MS: '1500', RELAY_FORWARD_TIMEOUT_MS: '1500' })).toThrow(
      'RELAY_API_TIMEOUT_MS + RELAY_FORWARD_TIMEOUT_MS must be at most 2500 ms',
    );
    expect(() => loadConfig({ RELAY_FORWARD_TIMEOUT_MS: '3000' })).toThrow('RELAY_FORWARD_TIMEOUT_MS:');
  });

  it('lists every problem at once and names the variable', () => {
    try {
      loadConfig({ RELAY_PORT: 'eighty', CROSSTRADE_API_URL: 'ftp://x', RELAY_FILL_GRACE_SECONDS: '-1' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.map((p) => p.split(/[: ]/)[0]);
      expect(problems.sort()).toEqual(['CROSSTRADE_API_URL', 'RELAY_FILL_GRACE_SECONDS', 'RELAY_PORT']);
    }
  });

  it('refuses a short admin token without echoing it', () => {
    try {
      loadConfig({ RELAY_ADMIN_TOKEN: 'tiny-secret' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('RELAY_ADMIN_TOKEN must be at least 16 characters');
      expect((error as Error).message).not.toContain('tiny-secret');
    }
  });

  it('selects PostgreSQL with RELAY_DATABASE_URL or --database-url (the flag wins); SQLite without', () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({ RELAY_DATABASE_URL: 'postgres://relay:pw@db:5432/relay' }).databaseUrl).toBe('postgres://relay:pw@db:5432/relay');
    expect(loadConfig({ RELAY_DATABASE_URL: 'postgres://a@b/c' }, { databaseUrl: 'postgresql://x@y/z' }).databaseUrl).toBe('postgresql://x@y/z');
  });

  it('refuses a database URL that is not PostgreSQL’s without echoing it (it may hold a password)', () => {
    for (const [env, flags, label] of [
      [{ RELAY_DATABASE_URL: 'mysql://relay:hunter2hunter2@db/relay' }, {}, 'RELAY_DATABASE_URL'],
      [{}, { databaseUrl: 'hunter2hunter2' }, '--database-url'],
    ] as const) {
      try {
        loadConfig(env, flags);
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message).toContain(`${label}: must be a postgres:// (or postgresql://) URL`);
        expect((error as Error).message).not.toContain('hunter2');
      }
    }
  });

  describe('refuses settings that defeat a guarantee, saying why (issue case 16)', () => {
    it('RELAY_FILL_GRACE_SECONDS 0 (or less)', () => {
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '0' })).toEqual([FILL_GRACE_ZERO]);
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '-1' })).toEqual([FILL_GRACE_ZERO]);
    });

    it('RELAY_FILL_GRACE_SECONDS that the forward timeout could use up: the hold starts when the order is sent', () => {
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '1' })).toEqual([fillGraceShort(3, 1500)]);
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '2' })).toEqual([fillGraceShort(3, 1500)]);
      expect(loadConfig({ RELAY_FILL_GRACE_SECONDS: '3' }).fillGraceSeconds).toBe(3);
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '3', RELAY_API_TIMEOUT_MS: '400', RELAY_FORWARD_TIMEOUT_MS: '2100' })).toEqual([fillGraceShort(4, 2100)]);
      expect(loadConfig({ RELAY_FILL_GRACE_SECONDS: '2', RELAY_FORWARD_TIMEOUT_MS: '1000' }).fillGraceSeconds).toBe(2);
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '2', RELAY_FORWARD_TIMEOUT_MS: '1001' })).toEqual([fillGraceShort(3, 1001)]);
      // Even the shortest forward timeout leaves 1 s too little: 1 is never enough.
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '1', RELAY_FORWARD_TIMEOUT_MS: '50' })).toEqual([fillGraceShort(2, 50)]);
      expect([50, 1000, 1001, 1500, 2450].map(fillGraceNeededSeconds)).toEqual([2, 2, 3, 3, 4]);
    });

    it('RELAY_DEDUP_SECONDS from 1 to 24; 0 (off) and 25 on are accepted, 30 is the default', () => {
      for (const seconds of ['1', '3', '24']) expect(problemsOf({ RELAY_DEDUP_SECONDS: seconds })).toEqual([DEDUP_SHORT]);
      expect(loadConfig({ RELAY_DEDUP_SECONDS: '0' }).dedupSeconds).toBe(0);
      expect(loadConfig({ RELAY_DEDUP_SECONDS: '25' }).dedupSeconds).toBe(25);
      expect(loadConfig({}).dedupSeconds).toBe(30);
      expect(problemsOf({ RELAY_DEDUP_SECONDS: '-1' })).toEqual(['RELAY_DEDUP_SECONDS: must be a whole number from 0 to 3600']);
    });

    it('RELAY_INSTANCE_TIMEOUT_SECONDS from 2 to 600, 5 by default', () => {
      expect(loadConfig({}).instanceTimeoutSeconds).toBe(5);
      expect(loadConfig({ RELAY_INSTANCE_TIMEOUT_SECONDS: '2' }).instanceTimeoutSeconds).toBe(2);
      expect(problemsOf({ RELAY_INSTANCE_TIMEOUT_SECONDS: '1' })).toEqual(['RELAY_INSTANCE_TIMEOUT_SECONDS: must be a whole number from 2 to 600']);
    });

    it('RELAY_RESTING_GRACE_SECONDS under an hour', () => {
      expect(problemsOf({ RELAY_RESTING_GRACE_SECONDS: '0' })).toEqual([RESTING_SHORT]);
      expect(problemsOf({ RELAY_RESTING_GRACE_SECONDS: '3599' })).toEqual([RESTING_SHORT]);
      expect(loadConfig({ RELAY_RESTING_GRACE_SECONDS: '3600' }).restingGraceSeconds).toBe(3600);
    });

    it('RELAY_TRUST_PROXY that believes everyone', () => {
      for (const spec of ['*', '0.0.0.0/0', '10.0.0.1, ::/0', '127.0.0.1,*']) expect(problemsOf({ RELAY_TRUST_PROXY: spec })).toEqual([TRUST_EVERYONE]);
      expect(loadConfig({ RELAY_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).trustProxy).toBe('127.0.0.1, 10.0.0.0/8');
      expect(problemsOf({ RELAY_TRUST_PROXY: 'proxy.example' })).toEqual(['RELAY_TRUST_PROXY: must be comma-separated IP addresses and CIDR ranges']);
    });

    it('a plain-http CROSSTRADE_API_URL off this machine: it would carry CrossTrade keys in clear', () => {
      expect(problemsOf({ CROSSTRADE_API_URL: 'http://app.crosstrade.io' })).toEqual([API_IN_CLEAR]);
      expect(problemsOf({ CROSSTRADE_API_URL: 'http://10.0.0.5:8090' })).toEqual([API_IN_CLEAR]);
      for (const url of ['http://127.0.0.1:8090', 'http://localhost:8090', 'http://[::1]:8090', 'https://10.0.0.5']) {
        expect(loadConfig({ CROSSTRADE_API_URL: url }).crosstradeApiUrl).toBe(url);
      }
    });

    it('lists every problem at once, also beside a setting that is not even a number', () => {
      expect(
        problemsOf({
          RELAY_PORT: 'eighty',
          RELAY_FILL_GRACE_SECONDS: '0',
          RELAY_DEDUP_SECONDS: '5',
          RELAY_RESTING_GRACE_SECONDS: '60',
          RELAY_TRUST_PROXY: '*',
          CROSSTRADE_API_URL: 'http://example.com',
          RELAY_API_TIMEOUT_MS: '1000',
          RELAY_FORWARD_TIMEOUT_MS: '2000',
        }).sort(),
      ).toEqual(
        [
          'RELAY_PORT: must be a whole number from 0 to 65535',
          FILL_GRACE_ZERO,
          DEDUP_SHORT,
          RESTING_SHORT,
          TRUST_EVERYONE,
          API_IN_CLEAR,
          OUTBOUND_TOO_LONG,
        ].sort(),
      );
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '1', RELAY_TLS_CERT: 'c', LOG_LEVEL: 'loud', RELAY_DURABILITY: 'maybe' }).sort()).toEqual(
        [
          fillGraceShort(3, 1500),
          'RELAY_TLS_CERT and RELAY_TLS_KEY go together: set both or neither',
          'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
          'RELAY_DURABILITY: must be one of power-cut, full, crash',
        ].sort(),
      );
    });

    it('skips a rule across settings when one of them is already refused', () => {
      expect(problemsOf({ RELAY_FILL_GRACE_SECONDS: '2', RELAY_FORWARD_TIMEOUT_MS: 'slow' })).toEqual([
        'RELAY_FORWARD_TIMEOUT_MS: must be a whole number from 50 to 2500',
      ]);
    });
  });

  it('reports the protections a setting turns off on purpose', () => {
    expect(configWarnings(loadConfig({}))).toEqual([]);
    expect(
      configWarnings(loadConfig({ RELAY_DEDUP_SECONDS: '0', RELAY_RATE_LIMIT_PER_MIN: '0', RELAY_API_CALLS_PER_MIN: '0', RELAY_WEBHOOK_ALLOW: '*' })),
    ).toEqual([
      'RELAY_DEDUP_SECONDS=0: copies of an alert are not recognised; only the position rules and the CrossTrade check stand between a resend and a second order',
      'RELAY_RATE_LIMIT_PER_MIN=0: /webhook has no rate limit',
      "RELAY_API_CALLS_PER_MIN=0: position reads are not held to CrossTrade's API budget (past it CrossTrade answers 429)",
      'RELAY_WEBHOOK_ALLOW=*: /webhook accepts alerts from any address',
    ]);
  });
});
