import { describe, expect, it } from 'vitest';
import {
  CrossTradeBadResponseError,
  CrossTradeError,
  CrossTradeHttpError,
  CrossTradeNetworkError,
  CrossTradeTimeoutError,
  httpReason,
} from '../../src/crosstrade/errors.js';
import {
  isCrossTradeBadResponseError,
  isCrossTradeError,
  isCrossTradeHttpError,
  isCrossTradeNetworkError,
  isCrossTradeTimeoutError,
} from '../../src/crosstrade/is-crosstrade-error.js';

const context = { origin: 'https://app.crosstrade.io', account: 'Sim101' };

describe('CrossTrade errors', () => {
  it.each([
    [408, 'api-not-connected-408'],
    [429, 'api-rate-limited-429'],
    [401, 'api-http-401'],
    [500, 'api-http-500'],
    [503, 'api-http-503'],
  ])('gives HTTP %i the reason %s', (status, reason) => {
    expect(httpReason(status)).toBe(reason);
    expect(new CrossTradeHttpError(status, null, context).reason).toBe(reason);
  });

  it('builds each message from the origin and the account only', () => {
    expect(new CrossTradeHttpError(408, 'not_connected', context).message).toBe(
      'CrossTrade API answered HTTP 408 (not_connected) for account Sim101 at https://app.crosstrade.io',
    );
    expect(new CrossTradeHttpError(500, null, context).message).toBe('CrossTrade API answered HTTP 500 for account Sim101 at https://app.crosstrade.io');
    expect(new CrossTradeTimeoutError(1200, context).message).toBe(
      'CrossTrade API did not answer within 1200 ms for account Sim101 at https://app.crosstrade.io',
    );
    expect(new CrossTradeNetworkError(new Error('boom'), 'ECONNREFUSED', context).message).toBe(
      'CrossTrade API request failed (ECONNREFUSED) for account Sim101 at https://app.crosstrade.io',
    );
    expect(new CrossTradeBadResponseError('not JSON', context).message).toBe(
      'CrossTrade API answered with an unreadable body (not JSON) for account Sim101 at https://app.crosstrade.io',
    );
  });

  it('keeps the status, code, cause and context as fields', () => {
    const cause = new Error('connect ECONNREFUSED');
    const network = new CrossTradeNetworkError(cause, 'ECONNREFUSED', context);
    expect(network.cause).toBe(cause);
    expect(network.code).toBe('ECONNREFUSED');
    expect(network.reason).toBe('api-network-error');
    expect(network.origin).toBe('https://app.crosstrade.io');
    expect(network.account).toBe('Sim101');
    const http = new CrossTradeHttpError(429, 'Rate limit exceeded', context);
    expect([http.status, http.code, http.name]).toEqual([429, 'Rate limit exceeded', 'CrossTradeHttpError']);
    expect(new CrossTradeTimeoutError(900).reason).toBe('api-timeout');
    expect(new CrossTradeBadResponseError('x').reason).toBe('api-bad-response');
  });

  it('tells the kinds apart with the type guards', () => {
    const errors = [
      new CrossTradeHttpError(500, null),
      new CrossTradeTimeoutError(1),
      new CrossTradeNetworkError(null, null),
      new CrossTradeBadResponseError('x'),
    ];
    const guards = [isCrossTradeHttpError, isCrossTradeTimeoutError, isCrossTradeNetworkError, isCrossTradeBadResponseError];
    errors.forEach((error, i) => {
      expect(error).toBeInstanceOf(CrossTradeError);
      expect(isCrossTradeError(error)).toBe(true);
      guards.forEach((guard, j) => {
        expect(guard(error)).toBe(i === j);
      });
    });
    expect(isCrossTradeError(new Error('other'))).toBe(false);
    expect(isCrossTradeHttpError({ status: 500, reason: 'api-http-500' })).toBe(false);
  });
});
