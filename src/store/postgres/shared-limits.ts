import type { Limits } from '../local-limits.js';
import { bucketRefillMs, limitAnswer, stepLimit } from '../limit-step.js';
import type { LimitAnswer, LimitRule } from '../store.js';

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

// `$4` events at once, all or none, a refusal not counted (TAKE_WINDOW counts every event, refused
// ones too): an instance taking events ahead (LimitRule.aheadMs) that do not fit takes one instead.
const TAKE_WINDOW_AHEAD = `
  INSERT INTO rate_limits AS r (name, subject, since, amount, granted, expires_at)
  VALUES ($1, $2, $3::bigint, CASE WHEN $4::float8 <= $5::float8 THEN $4::float8 ELSE 0 END, $4::float8 <= $5::float8, $3::bigint + $6::bigint)
  ON CONFLICT (name, subject) DO UPDATE SET
    since = CASE WHEN $3::bigint - r.since >= $6::bigint THEN $3::bigint ELSE r.since END,
    amount = CASE WHEN $3::bigint - r.since >= $6::bigint THEN (CASE WHEN $4::float8 <= $5::float8 THEN $4::float8 ELSE 0 END)
                  WHEN r.amount + $4::float8 <= $5::float8 THEN r.amount + $4::float8 ELSE r.amount END,
    granted = CASE WHEN $3::bigint - r.since >= $6::bigint THEN $4::float8 <= $5::float8 ELSE r.amount + $4::float8 <= $5::float8 END,
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

// Events or tokens taken ahead and never spent, given back: a window's only to the window they
// were counted in ($4 its start), a bucket's up to its capacity ($4). Without it they stay counted
// until the window ends, and refuse takes the rule allows (one instance wasted three of ten).
const GIVE_BACK_WINDOW = `UPDATE rate_limits SET amount = greatest(0::float8, amount - $3::float8) WHERE name = $1 AND subject = $2 AND since = $4::bigint`;
const GIVE_BACK_BUCKET = `UPDATE rate_limits SET amount = least($4::float8, amount + $3::float8) WHERE name = $1 AND subject = $2`;

/** Rows that say nothing any more are deleted at most this often per instance (ms). */
const PRUNE_EVERY_MS = 60_000;
/** The most events or tokens one statement takes ahead (LimitRule.aheadMs). */
const MAX_AHEAD = 100;
/** At most this many subjects are remembered for taking ahead; past it the oldest are forgotten (what they held ahead goes unspent). */
const MAX_AHEAD_SUBJECTS = 10_000;

/** What this instance took ahead for one subject, and when it took lately. */
interface Ahead {
  /** Events or tokens taken and not yet spent. */
  left: number;
  /** They are spent only before this time (ms). */
  until: number;
  /** The answer of the statement that took them, for the takes that spend them. */
  answer: LimitAnswer;
  /** Times (ms) of this instance's takes within the last aheadMs. */
  recent: number[];
  /** The start of the window they were counted in (a window's), for giving back what is left unspent. */
  since: number;
}

/**
 * Rate limits shared by every instance on the database (issue 10: the admin lockout, the
 * per-source webhook limit and CrossTrade's API budget hold across instances), in the table
 * rate_limits (migration 3). A take is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING; a read
 * one SELECT; rows past their expiry are deleted now and then after a take, off the caller's path.
 */
export function createSharedLimits(query: LimitQuery, onPruneError: (error: unknown) => void): Limits {
  let prunedAt = 0;
  const aheads = new Map<string, Ahead>();
  const id = (name: string, subject: string) => `${name}\0${subject}`;
  const pruneNow = (now: number) => {
    if (now - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now;
    // A minute's margin: another instance's clock may be a little behind this one's.
    query('DELETE FROM rate_limits WHERE expires_at < $1', [now - PRUNE_EVERY_MS]).catch(onPruneError);
  };
  /** One statement: `cost` taken (or `ahead` events or tokens, all or none, when given). */
  const take = async (name: string, subject: string, rule: LimitRule, time: number, cost: number, ahead = false) => {
    const values =
      rule.kind === 'window'
        ? [name, subject, time, cost, rule.limit, rule.windowMs]
        : [name, subject, time, cost, rule.capacity, rule.refillPerSecond, bucketRefillMs(rule)];
    const text = rule.kind === 'bucket' ? TAKE_BUCKET : ahead ? TAKE_WINDOW_AHEAD : TAKE_WINDOW;
    const rows = (await query(text, values)) as LimitRow[];
    const row = rows[0];
    if (row === undefined) throw new Error('rate_limits: the upsert returned no row');
    pruneNow(time);
    return { row, answer: limitAnswer({ since: row.since, amount: row.amount }, rule, time, row.granted, cost) };
  };

  /** Gives back what `state` holds unspent: none of it can be spent after this. A failure is reported, not thrown (they stay counted). */
  const giveBack = async (name: string, subject: string, rule: LimitRule, state: Ahead): Promise<void> => {
    const left = state.left;
    if (left <= 0) return;
    state.left = 0;
    const values = rule.kind === 'window' ? [name, subject, left, state.since] : [name, subject, left, rule.capacity];
    await query(rule.kind === 'window' ? GIVE_BACK_WINDOW : GIVE_BACK_BUCKET, values).catch(onPruneError);
  };

  /**
   * A take of one under a rule with `aheadMs`: spent from what this instance took ahead when it
   * can, else one statement that takes as many as this instance took in the last `aheadMs` (when
   * they do not all fit, one alone, as TAKE_WINDOW counts it).
   */
  const takeAhead = async (name: string, subject: string, rule: LimitRule, time: number, aheadMs: number): Promise<LimitAnswer> => {
    const key = id(name, subject);
    const state = aheads.get(key);
    const recent = [...(state?.recent ?? []).filter((at) => at > time - aheadMs && at <= time), time].slice(-MAX_AHEAD);
    const fresh = state !== undefined && time < state.until && time >= state.until - aheadMs;
    if (fresh && state.left > 0) {
      state.left -= 1;
      state.recent = recent;
      return { ...state.answer, remaining: Math.max(state.answer.remaining, state.left) };
    }
    if (fresh && !state.answer.allowed && time < state.until - aheadMs + state.answer.retryAfterMs) {
      // Refused a moment ago, and not allowed again yet: a flood past the limit costs no statement per alert.
      state.recent = recent;
      return { ...state.answer, retryAfterMs: state.until - aheadMs + state.answer.retryAfterMs - time };
    }
    // What is left from the last take can no longer be spent: it is given back before this take.
    if (state !== undefined) await giveBack(name, subject, rule, state);
    // As many as this instance took lately, but no more than were left at its last take.
    const want = Math.max(1, Math.min(recent.length, state === undefined || !fresh ? MAX_AHEAD : state.answer.remaining));
    let taken = want > 1 ? await take(name, subject, rule, time, want, true) : null;
    let got = want;
    if (taken === null || !taken.row.granted) {
      taken = await take(name, subject, rule, time, 1);
      got = taken.row.granted ? 1 : 0;
    }
    // A window's events are spent only inside the window they were counted in.
    const windowEnd = rule.kind === 'window' ? taken.row.since + rule.windowMs : Number.POSITIVE_INFINITY;
    if (!aheads.has(key) && aheads.size >= MAX_AHEAD_SUBJECTS) {
      const oldest = aheads.keys().next().value;
      if (oldest !== undefined) aheads.delete(oldest);
    }
    const until = Math.min(time + aheadMs, windowEnd);
    const next: Ahead = { left: Math.max(0, got - 1), until, answer: taken.answer, recent, since: taken.row.since };
    aheads.set(key, next);
    if (next.left > 0) {
      // Not spent by then: given back, so another instance (or this one, in the next window's
      // stead) is not refused for events or tokens nobody used.
      const timer = setTimeout(() => void giveBack(name, subject, rule, next), Math.max(0, until - time));
      timer.unref();
    }
    return taken.answer;
  };

  return {
    takeLimit: async (name, subject, rule, now, cost = 1) => {
      const time = Math.round(now);
      if ((rule.aheadMs ?? 0) > 0 && cost === 1) return takeAhead(name, subject, rule, time, rule.aheadMs ?? 0);
      return (await take(name, subject, rule, time, cost)).answer;
    },
    limitReached: async (name, subject, rule, now) => {
      const state = aheads.get(id(name, subject));
      const time = Math.round(now);
      if (state !== undefined && state.left > 0 && time < state.until) return { ...state.answer, allowed: true, retryAfterMs: 0 };
      const rows = (await query('SELECT since, amount FROM rate_limits WHERE name = $1 AND subject = $2', [name, subject])) as LimitRow[];
      const row = rows[0];
      return stepLimit(row === undefined ? null : { since: row.since, amount: row.amount }, rule, Math.round(now), 1, false).answer;
    },
    resetLimit: async (name, subject) => {
      aheads.delete(id(name, subject));
      await query('DELETE FROM rate_limits WHERE name = $1 AND subject = $2', [name, subject]);
    },
  };
}
