import { describe, expect, it } from 'vitest';
import { accountGroupOf } from '../../src/store/account-group.js';

describe('account groups', () => {
  it('derives the account group one way from the key: stable, distinct per key, never the key itself', () => {
    const group = accountGroupOf('key-of-bob-1');
    expect(accountGroupOf('key-of-bob-1')).toBe(group);
    expect(group).toMatch(/^[0-9a-f]{32}$/);
    expect(accountGroupOf('key-of-bob-2')).not.toBe(group);
    expect(group).not.toContain('key-of-bob-1');
  });

  it('gives a paper user of the same key a group of its own', () => {
    expect(accountGroupOf('key-of-bob-1', true)).toBe(`paper-${accountGroupOf('key-of-bob-1')}`);
  });
});
