import { setTimeout as sleep } from 'node:timers/promises';
import { connectBench } from './postgres-server.js';

/**
 * The signal log of relay instances sharing one PostgreSQL database, read the way open-signal-log.js
 * reads an SQLite one (the same methods, answering promises): the bench counts decisions per run
 * from the rows every instance wrote, not from the replies. Identity ids are taken in one order
 * across instances; a run starts once the last one settled, so "rows after the mark" are its rows.
 */
export async function openPostgresSignalLog(url) {
  const client = await connectBench(url);
  const counts = async (sql, id) => Object.fromEntries((await client.query(sql, [id])).rows.map((row) => [row.k, Number(row.n)]));
  const one = async (sql, id) => Number((await client.query(sql, id === undefined ? [] : [id])).rows[0].n);
  const decisionsSince = (id) => counts('SELECT decision AS k, count(*) AS n FROM signal_log WHERE id > $1 GROUP BY decision', id);
  return {
    mark: () => one('SELECT coalesce(max(id), 0) AS n FROM signal_log'),
    /** Rows written so far (ids have gaps: a transaction rolled back keeps the one it took). */
    count: () => one('SELECT count(*) AS n FROM signal_log'),
    /** Rows whose outcome was never written (once every instance has stopped, there is nobody left to write it). */
    pending: () => one("SELECT count(*) AS n FROM signal_log WHERE decision = 'pending'"),
    /** Decision counts of rows after `id`, once no row is still pending (outcomes are written after the answer). */
    async settledDecisionsSince(id) {
      for (let tries = 0; tries < 100; tries++) {
        const decisions = await decisionsSince(id);
        if (decisions.pending === undefined) return decisions;
        await sleep(20);
      }
      return decisionsSince(id);
    },
    /** Keys that got more than one forwarded entry after `id` (the burst must forward one per key, whichever instance took it). */
    doubleForwardsSince: (id) =>
      one(
        `SELECT count(*) AS n FROM (SELECT 1 FROM signal_log WHERE id > $1 AND decision = 'forwarded'
         GROUP BY relay_user, lower(account), instrument HAVING count(*) > 1) AS doubled`,
        id,
      ),
    keysTouchedSince: (id) =>
      one('SELECT count(*) AS n FROM (SELECT 1 FROM signal_log WHERE id > $1 GROUP BY relay_user, lower(account), instrument) AS touched', id),
    /** Rows after `id` by decision and the first word of their reason: `{'blocked position-open': 2400}`. */
    reasonsSince: (id) => counts(`SELECT decision || ' ' || split_part(reason, ':', 1) AS k, count(*) AS n FROM signal_log WHERE id > $1 GROUP BY k`, id),
    close: () => client.end().catch(() => undefined),
  };
}
