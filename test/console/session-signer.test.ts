import { describe, expect, it } from 'vitest';
import { createSessionSigner } from '../../src/console/session-signer.js';

const TOKEN = 'console-test-admin-token-0123456789';
const T0 = Date.UTC(2026, 0, 5, 14, 0);

describe('createSessionSigner', () => {
  it('reads back the session it issued until its expiry, and not after', () => {
    const signer = createSessionSigner(TOKEN);
    const { value, session } = signer.issue(T0, 60_000);
    expect(value).toMatch(/^\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain(TOKEN);
    expect(signer.read(value, T0 + 59_999)).toEqual(session);
    expect(signer.read(value, T0 + 60_000)).toBeNull();
  });

  it('refuses a cookie signed with another token (a rotated token ends every session)', () => {
    const { value } = createSessionSigner(TOKEN).issue(T0, 60_000);
    expect(createSessionSigner(`${TOKEN}-rotated`).read(value, T0)).toBeNull();
    // Any instance with the same token reads it: there is nothing stored per session.
    expect(createSessionSigner(TOKEN).read(value, T0)).not.toBeNull();
  });

  it('refuses a changed expiry, nonce or signature, and malformed values', () => {
    const signer = createSessionSigner(TOKEN);
    const { value } = signer.issue(T0, 60_000);
    const [expiry, nonce, mac] = value.split('.') as [string, string, string];
    const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`;
    for (const forged of [
      `${Number(expiry) + 1}.${nonce}.${mac}`,
      `${expiry}.${flip(nonce)}.${mac}`,
      `${expiry}.${nonce}.${flip(mac)}`,
      `${value}.x`,
      '',
      'a.b.c',
    ]) {
      expect(signer.read(forged, T0)).toBeNull();
    }
    expect(signer.read(undefined, T0)).toBeNull();
  });

  it('gives each session its own CSRF token and checks it in constant time', () => {
    const signer = createSessionSigner(TOKEN);
    const a = signer.issue(T0, 60_000).session;
    const b = signer.issue(T0, 60_000).session;
    expect(signer.csrfToken(a)).not.toBe(signer.csrfToken(b));
    expect(signer.checkCsrf(a, signer.csrfToken(a))).toBe(true);
    expect(signer.checkCsrf(a, signer.csrfToken(b))).toBe(false);
    expect(createSessionSigner(`${TOKEN}x`).checkCsrf(a, signer.csrfToken(a))).toBe(false);
    for (const presented of [undefined, '', 42, ['x'], signer.csrfToken(a).slice(1)]) expect(signer.checkCsrf(a, presented)).toBe(false);
  });
});
