import { describe, expect, it } from 'vitest';
import { limitWithin } from '../../src/store/limit-within.js';
import { StoreUnavailableError } from '../../src/store/store.js';

describe('limitWithin', () => {
  it('passes an answer given in time', async () => {
    expect(await limitWithin(Promise.resolve({ allowed: true, remaining: 2, retryAfterMs: 0, used: 1 }))).toEqual({
      value: { allowed: true, remaining: 2, retryAfterMs: 0, used: 1 },
    });
  });

  it('turns a failed call into an error it does not throw', async () => {
    const failure = new StoreUnavailableError('connection refused');
    expect(await limitWithin(Promise.reject(failure))).toEqual({ error: failure });
  });

  it('gives up on a call that does not answer in time, as the database unavailable', async () => {
    const answer = await limitWithin(new Promise<never>(() => undefined), 20);
    expect('error' in answer && answer.error).toBeInstanceOf(StoreUnavailableError);
    expect('error' in answer && (answer.error as Error).message).toBe('database unavailable: no rate-limit answer within 20 ms');
  });
});
