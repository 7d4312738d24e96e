import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares a presented Authorization header with the admin token in constant time. */
export function checkAdminToken(header: string | undefined, adminToken: string | undefined): 'ok' | 'missing' | 'wrong' | 'closed' {
  if (adminToken === undefined || adminToken === '') return 'closed';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return 'missing';
  // Hash both sides so the comparison takes the same time whatever the lengths.
  const presented = createHash('sha256').update(match[1]!).digest();
  const expected = createHash('sha256').update(adminToken).digest();
  return timingSafeEqual(presented, expected) ? 'ok' : 'wrong';
}
