import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/config-error.js';

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
      dedupSeconds: 3,
      logRetentionDays: 90,
      logMaxMegabytes: 20,
      tlsVerifyTradingView: false,
    });
  });

  it('refuses an allow-list entry that is not an address or range', () => {
    expect(() => loadConfig({ RELAY_WEBHOOK_ALLOW: '10.0.0.0/8, example.com' })).toThrow(
      'RELAY_WEBHOOK_ALLOW: RELAY_WEBHOOK_ALLOW must be "*" or comma-separated IP addresses and CIDR ranges',
    );
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
      const problems = (error as ConfigError).problems.map((p) => p.split(':')[0]);
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
});
