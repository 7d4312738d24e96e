import { createHash, timingSafeEqual } from 'node:crypto';

// A relay_secret is only ever compared, never sent on: the store keeps its hash, like a password.

export function hashRelaySecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** Constant-time comparison of a presented relay_secret with the stored hash. */
export function verifyRelaySecret(presented: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'utf8');
  const actual = Buffer.from(hashRelaySecret(presented), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
