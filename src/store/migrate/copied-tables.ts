/** How a column travels: its PostgreSQL array type in the batched insert, and how an SQLite value is read into it. */
export type ColumnType = 'text' | 'bigint' | 'integer' | 'float8' | 'boolean';

export interface CopiedTable {
  /** The same name in both schemas. */
  name: 'users' | 'key_records' | 'strategy_keys' | 'alert_fingerprints' | 'signal_log' | 'settings' | 'paper_books';
  /** As the summary shows it. */
  label: string;
  /** Every column of the table, in both schemas (SQLite schema version 8, PostgreSQL version 3, apart from POSTGRES_ONLY). */
  columns: readonly (readonly [name: string, type: ColumnType])[];
  /** The primary key: read in its order, so the signal log keeps its ids in order. */
  orderBy: string;
}

/**
 * What only PostgreSQL has, and no SQLite installation could fill: which live relay instance owns
 * an unfinished row (several instances, issue 10). Copied rows have no live instance; the first
 * relay started on the database closes what was left unfinished. And the shared rate limits: an
 * SQLite relay keeps its limits in memory, so there is nothing to copy (they start afresh).
 */
export const POSTGRES_ONLY = {
  tables: ['relay_instances', 'rate_limits'],
  columns: { signal_log: ['instance_id'], key_records: ['in_flight_instance'] } as Partial<Record<CopiedTable['name'], readonly string[]>>,
} as const;

/**
 * Everything an installation holds, table by table. Not copied: schema_version (PostgreSQL's own)
 * and nothing else exists in the SQLite schema. A table added to both schemas must be added here,
 * or `migrate-db` would leave it behind: test/store/postgres/copy-sqlite-to-postgres.test.ts
 * compares the lists of tables.
 */
export const COPIED_TABLES: readonly CopiedTable[] = [
  {
    name: 'users',
    label: 'users',
    columns: [
      ['relay_user', 'text'],
      ['crosstrade_key', 'text'],
      ['webhook_url', 'text'],
      ['relay_secret', 'text'],
      ['account_group', 'text'],
      ['paper', 'boolean'],
      ['created_at', 'text'],
      ['updated_at', 'text'],
    ],
    orderBy: 'relay_user',
  },
  {
    name: 'key_records',
    label: 'key records',
    columns: [
      ['account_group', 'text'],
      ['account_key', 'text'],
      ['instrument_key', 'text'],
      ['account', 'text'],
      ['instrument', 'text'],
      ['owner_user', 'text'],
      ['owner_id', 'text'],
      ['direction', 'text'],
      ['quantity', 'float8'],
      ['opened_at', 'bigint'],
      ['claimed_at', 'bigint'],
      ['hold_until', 'bigint'],
      ['doubt', 'text'],
      ['doubt_since', 'bigint'],
      ['closing_until', 'bigint'],
      ['updated_at', 'bigint'],
      ['version', 'bigint'],
    ],
    orderBy: 'account_group, account_key, instrument_key',
  },
  {
    name: 'strategy_keys',
    label: 'strategy marks',
    columns: [
      ['account_group', 'text'],
      ['account_key', 'text'],
      ['instrument_key', 'text'],
      ['relay_user', 'text'],
      ['relay_id', 'text'],
      ['holds_nothing', 'boolean'],
      ['last_fingerprint', 'text'],
      ['updated_at', 'bigint'],
    ],
    orderBy: 'account_group, account_key, instrument_key, relay_user, relay_id',
  },
  {
    name: 'alert_fingerprints',
    label: 'alert fingerprints',
    columns: [
      ['fingerprint', 'text'],
      ['time', 'bigint'],
      ['refused', 'boolean'],
    ],
    orderBy: 'fingerprint',
  },
  {
    name: 'signal_log',
    label: 'signal log',
    columns: [
      ['id', 'bigint'],
      ['time', 'bigint'],
      ['relay_user', 'text'],
      ['relay_id', 'text'],
      ['account', 'text'],
      ['instrument', 'text'],
      ['signal_type', 'text'],
      ['decision', 'text'],
      ['reason', 'text'],
      ['api_check', 'text'],
      ['upstream_status', 'integer'],
      ['latency_ms', 'float8'],
      ['alert', 'text'],
    ],
    orderBy: 'id',
  },
  {
    name: 'settings',
    label: 'settings',
    columns: [
      ['name', 'text'],
      ['value', 'text'],
    ],
    orderBy: 'name',
  },
  {
    name: 'paper_books',
    label: 'paper books',
    columns: [
      ['account_group', 'text'],
      ['book', 'text'],
      ['updated_at', 'bigint'],
    ],
    orderBy: 'account_group',
  },
];

/**
 * An SQLite value as PostgreSQL takes it: 0/1 as a boolean, times and versions as whole numbers
 * (the PostgreSQL store rounds them too), and text without NUL, which PostgreSQL's text cannot hold
 * (stored as U+FFFD, as the PostgreSQL store does with a hostile alert's).
 */
export function toPostgresValue(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'boolean':
      return Number(value) !== 0;
    case 'bigint':
    case 'integer':
      return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : value;
    case 'float8':
      return value;
    case 'text': {
      const text = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
      return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
    }
  }
}
