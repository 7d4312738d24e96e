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
    });
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
