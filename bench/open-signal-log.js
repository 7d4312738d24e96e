import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

/**
 * A read-only view of a relay's signal log, to check that every answered alert left its row:
 * the bench counts decisions per run from the database the relay writes, not from the replies.
 */
export function openSignalLog(dbFile) {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  const lastId = db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM signal_log').pluck();
  const rowCount = db.prepare('SELECT COUNT(*) FROM signal_log').pluck();
  const decisions = db.prepare('SELECT decision, COUNT(*) AS n FROM signal_log WHERE id > ? GROUP BY decision');
  const doubleForwards = db
    .prepare(
      `SELECT COUNT(*) FROM (SELECT 1 FROM signal_log WHERE id > ? AND decision = 'forwarded'
       GROUP BY relay_user, lower(account), instrument HAVING COUNT(*) > 1)`,
    )
    .pluck();
  // The reason's first word (`position-open`, `owner-order-pending`, …): what decided each row.
  const reasons = db.prepare(
    `SELECT decision || ' ' || CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS why,
     COUNT(*) AS n FROM signal_log WHERE id > ? GROUP BY why`,
  );
  const keysTouched = db.prepare('SELECT COUNT(*) FROM (SELECT 1 FROM signal_log WHERE id > ? GROUP BY relay_user, lower(account), instrument)').pluck();

  const decisionsSince = (id) => Object.fromEntries(decisions.all(id).map((row) => [row.decision, row.n]));
  return {
    mark: () => lastId.get(),
    count: () => rowCount.get(),
    /** Decision counts of rows after `id`, once no row is still pending (alerts cut off at the end of a run finish first). */
    async settledDecisionsSince(id) {
      for (let tries = 0; tries < 100; tries++) {
        const counts = decisionsSince(id);
        if (counts.pending === undefined) return counts;
        await sleep(20);
      }
      return decisionsSince(id);
    },
    /** Keys that got more than one forwarded entry after `id` (the burst must forward one per key). */
    doubleForwardsSince: (id) => doubleForwards.get(id),
    keysTouchedSince: (id) => keysTouched.get(id),
    /** Rows after `id` by decision and the first word of their reason: `{'blocked position-open': 2400}`. */
    reasonsSince: (id) => Object.fromEntries(reasons.all(id).map((row) => [row.why, row.n])),
    close: () => db.close(),
  };
}
