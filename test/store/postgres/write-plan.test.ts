import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_LOOKUPS_ONLY } from '../../../src/store/postgres/create-postgres-store.js';
import { KeyWork } from '../../../src/store/postgres/key-work.js';
import { toKeyRow } from '../../../src/store/rows.js';
import type { TestDatabase } from '../../helpers/postgres.js';
import { A, identity, key, log, openPlanDatabase, planNodes, record, T0 } from './fixtures.js';

// Every statement of the store's transactions is planned once per connection for any values
// (force_generic_plan), on the statistics of that moment. On tables still small, as in the first
// minutes of a cluster, the cheapest generic plan of a write joined the alert's keys to a whole
// table read and hashed, and kept doing so as the tables grew: at 200 alerts/s the relay read
// key_records and signal_log whole for each alert (bench/RESULTS.md, 2026-11-30). Judged on the
// plan of the write that touches every table, made as the store's transactions make it.

const TABLES = ['key_records', 'strategy_keys', 'alert_fingerprints', 'signal_log'];

/** A value as a SQL literal (the statement casts every parameter to its type). */
function literal(client: pg.Client, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) {
    const items = value.map((item) => (item === null ? 'NULL' : `"${String(item).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`));
    return client.escapeLiteral(`{${items.join(',')}}`);
  }
  return client.escapeLiteral(String(value));
}

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  ({ db, client } = await openPlanDatabase());
  // A cluster's first minutes: a few dozen rows in each table, analyzed.
  await client.query(`
    INSERT INTO key_records (account_group, account_key, instrument_key, account, instrument, owner_user, owner_id, direction, quantity, updated_at, version)
      SELECT 'group', 'sim' || i, 'ES', 'Sim' || i, 'ES 12-26', 'bob', 'A', 'long', 1, 0, i FROM generate_series(1, 60) i;
    INSERT INTO strategy_keys (account_group, account_key, instrument_key, relay_user, relay_id, holds_nothing, last_fingerprint, updated_at)
      SELECT 'group', 'sim' || i, 'ES', 'bob', 'A', false, 'fp' || i, 0 FROM generate_series(1, 60) i;
    INSERT INTO alert_fingerprints (fingerprint, time, refused) SELECT 'fp' || i, i, false FROM generate_series(1, 60) i;
    INSERT INTO signal_log (time, relay_user, relay_id, account, instrument, signal_type, decision, reason, alert, instance_id)
      SELECT i, 'bob', 'A', 'Sim1', 'ES 12-26', 'entry', 'pending', 'x', 'alert', 1 FROM generate_series(1, 60) i;
    ANALYZE`);
  await client.query('SET plan_cache_mode = force_generic_plan');
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** A transaction's work that writes every part: a record kept, one deleted, marks, fingerprints, an outcome, a voided row, a new row. */
function everyPart(): KeyWork {
  const kept = { ...key, accountGroup: 'group', account: 'Sim1' };
  const freed = { ...key, accountGroup: 'group', account: 'Sim2' };
  const rows = [kept, freed].map((k, i) => toKeyRow(k, 'ES 12-26', record(A), T0, i + 1));
  const work = new KeyWork([kept, freed], { keys: rows, senders: [], fingerprint: null }, A, 'fp1', () => T0, 1);
  work.writeRecord(kept, 'ES 12-26', record(A, 'in-flight'));
  work.writeRecord(freed, 'ES 12-26', record(null));
  work.mark(freed, [{ ...A, holdsNothing: true }]);
  work.setLast(kept, A, 'fp1');
  work.seeDecided('fp1', T0);
  work.completeLog(1, { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 });
  work.void({ keys: [], logs: [log()], fingerprints: [{ fingerprint: identity('fp2').fingerprint, time: T0 }] }, 'voided');
  work.appendLog(log());
  return work;
}

describe("the write of a transaction's work on PostgreSQL", () => {
  it('finds every row it changes by its index, on tables still small, with the settings of the store’s connections', async () => {
    const { text, values } = everyPart().writeQuery();
    await client.query('BEGIN');
    try {
      for (const setting of KEY_LOOKUPS_ONLY) await client.query(setting);
      await client.query(`PREPARE relay_write AS ${text}`);
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE relay_write(${values.map((v) => literal(client, v)).join(', ')})`);
      const plan = planNodes(rows);
      const read = plan.filter((n) => TABLES.includes(n['Relation Name'] ?? ''));
      expect(read.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])).toEqual([]);
      expect(plan.filter((n) => n['Node Type'] === 'Hash Join')).toEqual([]);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
