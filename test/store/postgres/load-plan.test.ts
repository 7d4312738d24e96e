import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOAD_STATEMENT } from '../../../src/store/postgres/key-work.js';
import type { TestDatabase } from '../../helpers/postgres.js';
import { openPlanDatabase, type PlanNode, planNodes } from './fixtures.js';

// The read under the locks runs for every alert, planned once per connection for any values
// (force_generic_plan). Written as `IN (SELECT unnest ...)` and `= ANY($8)` its generic plan read
// the whole of key_records and strategy_keys for every alert: at 200 alerts a second on 3,000 keys
// the p50 went from 11 to 85 ms (bench/RESULTS.md, 2026-11-30). Judged on tables the size of a
// hosted relay's, analyzed, through the plan the store's connections get.

const ROWS = 5_000;
const LOOKED_UP = ['key_records', 'strategy_keys', 'alert_fingerprints', 'users'];

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  ({ db, client } = await openPlanDatabase());
  await client.query(`
    INSERT INTO users (relay_user, crosstrade_key, webhook_url, account_group, created_at, updated_at)
      SELECT 'user' || i, 'key' || i, 'https://app.crosstrade.io/v1/send/x/' || i, 'group' || i, '2026-01-01', '2026-01-01' FROM generate_series(1, ${ROWS}) i;
    INSERT INTO key_records (account_group, account_key, instrument_key, account, instrument, owner_user, owner_id, direction, quantity, updated_at, version)
      SELECT 'group' || (i % 20), 'sim' || i, 'ES', 'Sim' || i, 'ES 12-26', 'user' || (i % 20), 'A', 'long', 1, 0, i FROM generate_series(1, ${ROWS}) i;
    INSERT INTO strategy_keys (account_group, account_key, instrument_key, relay_user, relay_id, holds_nothing, last_fingerprint, updated_at)
      SELECT 'group' || (i % 20), 'sim' || i, 'ES', 'user' || (i % 20), 'A', false, 'fp' || i, 0 FROM generate_series(1, ${ROWS}) i;
    INSERT INTO alert_fingerprints (fingerprint, time, refused) SELECT 'fp' || i, i, false FROM generate_series(1, ${ROWS}) i;
    ANALYZE`);
  await client.query('SET plan_cache_mode = force_generic_plan');
  await client.query(`PREPARE relay_load(text[], text[], text[], text, text, text, text, text[]) AS ${LOAD_STATEMENT}`);
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function plan(groups: string[]): Promise<PlanNode[]> {
  const { rows } = await client.query(
    `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE relay_load('{group7}', '{sim7}', '{ES}', 'user7', 'A', 'fp7', 'user7', '${JSON.stringify(groups).replace('[', '{').replace(']', '}')}')`,
  );
  return planNodes(rows);
}

describe("the read of an alert's keys on PostgreSQL", () => {
  it('looks each key, strategy mark, fingerprint and user up by its index, never reading a table whole', async () => {
    const read = await plan([]);
    const seqScans = read.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
    expect(seqScans.filter((name) => LOOKED_UP.includes(name ?? ''))).toEqual([]);
    const indexed = new Set(read.filter((n) => n['Node Type'].startsWith('Index')).map((n) => n['Relation Name']));
    expect([...indexed].sort()).toEqual([...LOOKED_UP].sort());
  });

  it('reads no account group unless one is listed, and a listed one through the index', async () => {
    const unlisted = await plan([]);
    // Every read of key_records that ran is the one key's lookup (one loop, one key).
    const ranOnKeys = unlisted.filter((n) => n['Relation Name'] === 'key_records' && (n['Actual Loops'] ?? 0) > 0);
    expect(ranOnKeys).toHaveLength(1);
    const listed = await plan(['group7']);
    const groupReads = listed.filter((n) => n['Relation Name'] === 'key_records' && (n['Actual Loops'] ?? 0) > 0);
    expect(groupReads).toHaveLength(2);
    expect(groupReads.every((n) => n['Node Type'] !== 'Seq Scan')).toBe(true);
  });
});
