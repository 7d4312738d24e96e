/**
 * Schema versions, applied in order; PRAGMA user_version records how far a file has come.
 * Never edit a released step: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    relay_user     TEXT PRIMARY KEY,
    crosstrade_key TEXT NOT NULL,
    webhook_url    TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
  );
  CREATE TABLE positions (
    relay_user     TEXT NOT NULL,
    account_key    TEXT NOT NULL,
    instrument_key TEXT NOT NULL,
    account        TEXT NOT NULL,
    instrument     TEXT NOT NULL,
    relay_id       TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('long', 'short')),
    opened_at      INTEGER NOT NULL,
    claimed_at     INTEGER NOT NULL,
    hold_until     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    PRIMARY KEY (relay_user, account_key, instrument_key)
  );
  CREATE TABLE signal_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    time            INTEGER NOT NULL,
    relay_user      TEXT,
    relay_id        TEXT,
    account         TEXT,
    instrument      TEXT,
    signal_type     TEXT,
    decision        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    api_check       TEXT,
    upstream_status INTEGER,
    latency_ms      REAL,
    alert           TEXT NOT NULL
  );
  CREATE INDEX signal_log_user_time ON signal_log (relay_user, id);
  CREATE INDEX signal_log_time ON signal_log (time);
  `,
  `
  ALTER TABLE users ADD COLUMN relay_secret TEXT;
  CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE alert_fingerprints (
    fingerprint TEXT NOT NULL,
    time        INTEGER NOT NULL
  );
  CREATE INDEX alert_fingerprints_lookup ON alert_fingerprints (fingerprint, time);
  CREATE INDEX alert_fingerprints_time ON alert_fingerprints (time);
  `,
  `
  CREATE TABLE blocked_senders (
    relay_user     TEXT NOT NULL,
    account_key    TEXT NOT NULL,
    instrument_key TEXT NOT NULL,
    relay_id       TEXT NOT NULL,
    since          INTEGER NOT NULL,
    PRIMARY KEY (relay_user, account_key, instrument_key, relay_id)
  );
  `,
  // Smaller writes per alert (bench/RESULTS.md): no AUTOINCREMENT bookkeeping on the log, and
  // fingerprints stored in their key's b-tree.
  `
  CREATE TABLE signal_log_v4 (
    id              INTEGER PRIMARY KEY,
    time            INTEGER NOT NULL,
    relay_user      TEXT,
    relay_id        TEXT,
    account         TEXT,
    instrument      TEXT,
    signal_type     TEXT,
    decision        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    api_check       TEXT,
    upstream_status INTEGER,
    latency_ms      REAL,
    alert           TEXT NOT NULL
  );
  INSERT INTO signal_log_v4 SELECT id, time, relay_user, relay_id, account, instrument, signal_type, decision, reason,
    api_check, upstream_status, latency_ms, alert FROM signal_log;
  DROP TABLE signal_log;
  ALTER TABLE signal_log_v4 RENAME TO signal_log;
  CREATE INDEX signal_log_user_time ON signal_log (relay_user, id);
  CREATE INDEX signal_log_time ON signal_log (time);
  DROP TABLE alert_fingerprints;
  CREATE TABLE alert_fingerprints (
    fingerprint TEXT PRIMARY KEY,
    time        INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  CREATE INDEX alert_fingerprints_time ON alert_fingerprints (time);
  `,
  // Issue 7: keys per CrossTrade account group (users sharing a key share accounts), records that
  // can be in doubt, and per-strategy memory (holds nothing, last alert) on each key. Needs the SQL
  // function relay_account_group(key), registered before migrating.
  `
  ALTER TABLE users ADD COLUMN account_group TEXT;
  UPDATE users SET account_group = relay_account_group(crosstrade_key);
  CREATE TABLE key_records (
    account_group  TEXT NOT NULL,
    account_key    TEXT NOT NULL,
    instrument_key TEXT NOT NULL,
    account        TEXT NOT NULL,
    instrument     TEXT NOT NULL,
    owner_user     TEXT,
    owner_id       TEXT,
    direction      TEXT CHECK (direction IN ('long', 'short')),
    quantity       INTEGER,
    opened_at      INTEGER,
    claimed_at     INTEGER,
    hold_until     INTEGER,
    doubt          TEXT CHECK (doubt IN ('in-flight', 'unknown-outcome', 'working-order', 'working-exit', 'changed', 'closing')),
    doubt_since    INTEGER,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    PRIMARY KEY (account_group, account_key, instrument_key)
  );
  CREATE INDEX key_records_owner ON key_records (owner_user);
  INSERT INTO key_records
    SELECT u.account_group, p.account_key, p.instrument_key, p.account, p.instrument, p.relay_user, p.relay_id, p.direction,
           NULL, p.opened_at, p.claimed_at, p.hold_until, NULL, NULL, p.updated_at, p.version
    FROM positions p JOIN users u ON u.relay_user = p.relay_user
    WHERE true ON CONFLICT DO UPDATE SET doubt = 'changed', doubt_since = excluded.updated_at;
  CREATE TABLE strategy_keys (
    account_group    TEXT NOT NULL,
    account_key      TEXT NOT NULL,
    instrument_key   TEXT NOT NULL,
    relay_user       TEXT NOT NULL,
    relay_id         TEXT NOT NULL,
    holds_nothing    INTEGER NOT NULL DEFAULT 0,
    last_fingerprint TEXT,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (account_group, account_key, instrument_key, relay_user, relay_id)
  ) WITHOUT ROWID;
  INSERT INTO strategy_keys
    SELECT u.account_group, b.account_key, b.instrument_key, b.relay_user, b.relay_id, 1, NULL, b.since
    FROM blocked_senders b JOIN users u ON u.relay_user = b.relay_user
    WHERE true ON CONFLICT DO NOTHING;
  DROP TABLE positions;
  DROP TABLE blocked_senders;
  DROP TABLE alert_fingerprints;
  CREATE TABLE alert_fingerprints (
    fingerprint TEXT PRIMARY KEY,
    time        INTEGER NOT NULL,
    refused     INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX alert_fingerprints_time ON alert_fingerprints (time);
  `,
  // Issue 8, paper mode: a user whose orders go to a paper book inside the relay, and that book per
  // (paper) account group, kept across restarts.
  `
  ALTER TABLE users ADD COLUMN paper INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE paper_books (
    account_group TEXT PRIMARY KEY,
    book          TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  `,
  // Issue 7: until when a reading may still show contracts an order of the key closed (KeyRecord.closingUntil).
  `
  ALTER TABLE key_records ADD COLUMN closing_until INTEGER;
  `,
];
