import { describe, expect, it } from 'vitest';
import { loginNeedsStartTls } from '../../src/notify/login-needs-start-tls.js';

describe('loginNeedsStartTls', () => {
  it.each([
    ['smtp://relay%40example.com:app-password@smtp.example.com:587', true],
    ['smtp://user:pw@10.0.0.5:25', true],
    ['smtp://user:pw@[2001:db8::1]:587', true],
  ])('requires STARTTLS for a login to another machine over smtp:// (%s)', (url, expected) => {
    expect(loginNeedsStartTls(url)).toBe(expected);
  });

  it.each([
    ['smtps://user:pw@smtp.example.com:465', 'TLS from the start'],
    ['smtp://smtp.example.com:25', 'no login to protect'],
    ['smtp://user:pw@127.0.0.1:2525', 'loopback'],
    ['smtp://user:pw@localhost:25', 'loopback'],
    ['smtp://user:pw@[::1]:25', 'loopback'],
  ])('does not for %s (%s)', (url) => {
    expect(loginNeedsStartTls(url)).toBe(false);
  });
});
