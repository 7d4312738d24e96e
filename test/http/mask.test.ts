import { describe, expect, it } from 'vitest';
import { maskSecret, maskUrl } from '../../src/http/mask.js';

describe('masking', () => {
  it('shows the last four characters of a long key only', () => {
    expect(maskSecret('ct-secret-key-bob-123456')).toBe('****3456');
    expect(maskSecret('short-key-9chars')).toBe('****hars');
    expect(maskSecret('fifteen-chars-k')).toBe('****');
  });

  it('shows a webhook URL’s origin only: its path is the secret', () => {
    expect(maskUrl('https://app.crosstrade.io/v1/send/acct/token')).toBe('https://app.crosstrade.io/****');
    expect(maskUrl('not a url')).toBe('****');
  });
});
