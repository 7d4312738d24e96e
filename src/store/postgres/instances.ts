import type { InstanceRecord } from '../store.js';

// Several relay instances on one database (issue 10). Each registers a row in relay_instances and
// heartbeats it; a signal-log row it wrote `pending` carries its id (instance_id), as does a key it
// put in flight (in_flight_instance). An instance whose heartbeat is older than the timeout is
// stopped: the survivors close what it left (closeStoppedStatement). Times are the database's
// clock, so instances on machines whose clocks differ agree on who is silent.

/** The database's clock, in ms since the epoch, fixed for the statement. */
const NOW_MS = '(extract(epoch from statement_timestamp()) * 1000)::bigint';

/** The live instances, this one ($1) always among them: its own rows are never closed by itself. $2: the timeout (ms). */
const LIVE = `live AS (SELECT id FROM relay_instances WHERE last_seen >= ${NOW_MS} - $2::bigint UNION ALL SELECT $1::bigint)`;

/** Rows no live instance owns: `pending` log rows, keys in flight. */
const UNOWNED_LOG = "l.decision = 'pending' AND (l.instance_id IS NULL OR l.instance_id NOT IN (SELECT id FROM live))";
const UNOWNED_KEY = "k.doubt = 'in-flight' AND (k.in_flight_instance IS NULL OR k.in_flight_instance NOT IN (SELECT id FROM live))";

/**
 * Registers or refreshes this instance ($1 id, $3 host, $4 pid, $5 started_at; $2 the timeout) and,
 * when $6, says whether anything is left by a stopped instance, in one round trip. `registered` is
 * true when the row had to be inserted: at open, or after another instance presumed this one stopped.
 */
export const HEARTBEAT_STATEMENT = `
WITH beat AS (
  INSERT INTO relay_instances (id, host, pid, started_at, last_seen) VALUES ($1, $3, $4, $5, ${NOW_MS})
  ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen
  RETURNING (xmax = 0) AS registered
), ${LIVE}
SELECT (SELECT registered FROM beat) AS registered,
  CASE WHEN $6::boolean THEN
    EXISTS (SELECT 1 FROM relay_instances i WHERE i.id NOT IN (SELECT id FROM live))
    OR EXISTS (SELECT 1 FROM key_records k WHERE ${UNOWNED_KEY})
    OR EXISTS (SELECT 1 FROM signal_log l WHERE ${UNOWNED_LOG})
  ELSE false END AS stopped`;

/** Before the transaction: the stopped instances still registered, and the account groups of keys in flight no live instance owns ($1 self, $2 timeout). */
export const FIND_STOPPED_STATEMENT = `
WITH ${LIVE}
SELECT
  (SELECT coalesce(json_agg(i ORDER BY i.started_at, i.id), '[]'::json) FROM relay_instances i WHERE i.id NOT IN (SELECT id FROM live)) AS instances,
  (SELECT coalesce(array_agg(DISTINCT k.account_group), '{}'::text[]) FROM key_records k WHERE ${UNOWNED_KEY}) AS groups`;

/**
 * Inside the transaction that holds the account groups $3 exclusively: keys in flight of those
 * groups no live instance owns become of unknown outcome (the version kept: a presumed-stopped
 * instance that was only cut off may still settle its order); `pending` rows no live instance owns
 * become `unknown`, with the reason of their instance ($4 ids, $5 reasons) or $6; stopped
 * instances are removed. Two survivors doing it at once: the second finds nothing left.
 */
export const CLOSE_STOPPED_STATEMENT = `
WITH ${LIVE}, keys AS (
  UPDATE key_records k SET doubt = 'unknown-outcome', in_flight_instance = NULL
  WHERE ${UNOWNED_KEY} AND k.account_group = ANY($3::text[])
  RETURNING 1
), logs AS (
  UPDATE signal_log l SET decision = 'unknown',
    reason = coalesce((SELECT x.reason FROM unnest($4::bigint[], $5::text[]) AS x(id, reason) WHERE x.id = l.instance_id), $6)
  WHERE ${UNOWNED_LOG}
  RETURNING 1
), gone AS (
  -- Checked again on the row: an instance that heartbeats meanwhile stays.
  DELETE FROM relay_instances i WHERE i.last_seen < ${NOW_MS} - $2::bigint AND i.id <> $1
  RETURNING i.*
)
SELECT (SELECT count(*) FROM keys)::integer AS keys, (SELECT count(*) FROM logs)::integer AS logs,
  (SELECT coalesce(json_agg(g ORDER BY g.started_at, g.id), '[]'::json) FROM gone g) AS instances`;

/** The account groups of the keys this instance ($1) left in flight (read before closing them, see CLOSE_OWN_STATEMENT). */
export const FIND_OWN_STATEMENT = `SELECT coalesce(array_agg(DISTINCT k.account_group), '{}'::text[]) AS groups FROM key_records k WHERE k.doubt = 'in-flight' AND k.in_flight_instance = $1`;

/**
 * A clean close of this instance ($1), inside the transaction that holds the account groups $2
 * exclusively: its keys still in flight become of unknown outcome, its `pending` rows `unknown`
 * with the reason $3, and its registration goes.
 */
export const CLOSE_OWN_STATEMENT = `
WITH keys AS (
  UPDATE key_records k SET doubt = 'unknown-outcome', in_flight_instance = NULL
  WHERE k.doubt = 'in-flight' AND k.in_flight_instance = $1 AND k.account_group = ANY($2::text[])
  RETURNING 1
), logs AS (
  UPDATE signal_log l SET decision = 'unknown', reason = $3 WHERE l.decision = 'pending' AND l.instance_id = $1
  RETURNING 1
), gone AS (
  DELETE FROM relay_instances WHERE id = $1
)
SELECT (SELECT count(*) FROM keys)::integer AS keys, (SELECT count(*) FROM logs)::integer AS logs`;

/** The live instances, oldest first ($1 the timeout). */
export const LIST_INSTANCES_STATEMENT = `SELECT * FROM relay_instances WHERE last_seen >= ${NOW_MS} - $1::bigint ORDER BY started_at, id`;

export interface InstanceRow {
  id: number;
  host: string;
  pid: number;
  started_at: number;
  last_seen: number;
}

export function toInstanceRecord(row: InstanceRow): InstanceRecord {
  return { id: Number(row.id), host: row.host, pid: row.pid, startedAt: Number(row.started_at), lastSeen: Number(row.last_seen) };
}
