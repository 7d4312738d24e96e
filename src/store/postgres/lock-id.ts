import { createHash } from 'node:crypto';

/**
 * The 64-bit name of a transaction-scoped advisory lock (pg_advisory_xact_lock): a hash of what is
 * locked, so a key can be locked before it has a row. The kinds keep a group and a key of the same
 * name apart; "trade-relay" keeps them apart from another application's locks on the same database.
 * Answers a signed 64-bit integer (PostgreSQL's bigint) as decimal text.
 */
export function lockId(kind: 'group' | 'key' | 'migrations' | 'instances', name: string): string {
  const digest = createHash('sha256').update(`trade-relay\0${kind}\0${name}`).digest();
  return digest.readBigInt64BE(0).toString();
}
