import type { Limits } from '../local-limits.js';
import { bucketRefillMs, limitAnswer, stepLimit } from '../limit-step.js';

/** A statement on the store's pool, within the store's call budget; its errors are the store's. */
export type LimitQuery = (text: string, values: unknown[]) => Promise<unknown[]>;

interface LimitRow {
  since: number;
  amount: number;
  granted: boolean;
}

// One statement per take: the row is created or updated and read back under its row lock, so
// takes from every instance at once are counted once each (no read-modify-write race). The
// arithmetic is stepLimit's (src/store/limit-step.ts), in the same order, in float8.
const TAKE_WINDOW = `
  INSERT INTO rate_limits AS r (name, subject, since, amount, granted, expires_at)
  VALUES ($1, $2, $3::bigint, $4::float8, $4::float8 <= $5::float8, $3::bigint + $6::bigint)
  ON CONFLICT (name, subject) DO UPDATE SET
    since = CASE WHEN $3::bigint - r.since >= $6::bigint THEN $3::bigint ELSE r.since END,
    amount = CASE WHEN $3::bigint - r.since >= $6::bigint THEN $4::float8 ELSE r.amount + $4::float8 END,
    granted = CASE WHEN $3::bigint - r.since >= $6::bigint THEN $4::float8 ELSE r.amount + $4::float8 END <= $5::float8,
    expires_at = CASE WHEN $3::bigint - r.since >= $6::bigint THEN $3::bigint ELSE r.since END + $6::bigint
  RETURNING since, amount, granted`;

const TOKENS = 'least($5::float8, r.amount + greatest(0, $3::bigint - r.since) * $6::float8 / 1000::float8)';
const TAKE_BUCKET = `
  INSERT INTO rate_limits AS r (name, subject, since, amount, granted, expires_at)
  VALUES ($1, $2, $3::bigint, CASE WHEN $5::float8 >= $4::float8 THEN $5::float8 - $4::float8 ELSE $5::float8 END,
          $5::float8 >= $4::float8, $3::bigint + $7::bigint)
  ON CONFLICT (name, subject) DO UPDATE SET
    since = greatest(r.since, $3::bigint),
    amount = CASE WHEN ${TOKENS} >= $4::float8 THEN ${TOKENS} - $4::float8 ELSE ${TOKENS} END,
    granted = ${TOKENS} >= $4::float8,
    expires_at = greatest(r.since, $3::bigint) + $7::bigint
  RETURNING since, amount, granted`;

/** Rows that say nothing any more are deleted at most this often per instance (ms). */
const PRUNE_EVERY_MS = 60_000;

/**
 * Rate limits shared by every instance on the database (issue 10: the admin lockout, the
 * per-source webhook limit and CrossTrade's API budget hold across instances), in the table
 * rate_limits (migration 3). A take is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING; a read
 * one SELECT; rows past their expiry are deleted now and then after a take, off the caller's path.
 */
export function createSharedLimits(query: LimitQuery, onPruneError: (error: unknown) => void): Limits {
  let prunedAt = 0;
  const pruneNow = (now: number) => {
    if (now - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now;
    // A minute's margin: another instance's clock may be a little behind this one's.
    query('DELETE FROM rate_limits WHERE expires_at < $1', [now - PRUNE_EVERY_MS]).catch(onPruneError);
  };
  return {
    takeLimit: async (name, subject, rule, now, cost = 1) => {
      const time = Math.round(now);
      const values =
        rule.kind === 'window'
          ? [name, subject, time, cost, rule.limit, rule.windowMs]
          : [name, subject, time, cost, rule.capacity, rule.refillPerSecond, bucketRefillMs(rule)];
      const rows = (await query(rule.kind === 'window' ? TAKE_WINDOW : TAKE_BUCKET, values)) as LimitRow[];
      const row = rows[0];
      if (row === undefined) throw new Error('rate_limits: the upsert returned no row');
      pruneNow(time);
      return limitAnswer({ since: row.since, amount: row.amount }, rule, time, row.granted, cost);
    },
    limitReached: async (name, subject, rule, now) => {
      const rows = (await query('SELECT since, amount FROM rate_limits WHERE name = $1 AND subject = $2', [name, subject])) as LimitRow[];
      const row = rows[0];
      return stepLimit(row === undefined ? null : { since: row.since, amount: row.amount }, rule, Math.round(now), 1, false).answer;
    },
    resetLimit: async (name, subject) => {
      await query('DELETE FROM rate_limits WHERE name = $1 AND subject = $2', [name, subject]);
    },
  };
}
