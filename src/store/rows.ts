import type { Direction, DoubtKind, KeyRecord } from '../engine/types.js';
import type { PositionKey, PositionRecord, SignalLogInput, SignalLogRecord, UserRecord } from './store.js';

// The rows both stores keep (the same tables and columns in SQLite and PostgreSQL, see their
// migrations) and their mapping to and from the records of the store contract.

/** A key_records row, as either database answers it (PostgreSQL's bigints read as numbers: every value fits in 2^53). */
export interface KeyRow {
  account_group: string;
  account_key: string;
  instrument_key: string;
  account: string;
  instrument: string;
  owner_user: string | null;
  owner_id: string | null;
  direction: Direction | null;
  quantity: number | null;
  opened_at: number | null;
  claimed_at: number | null;
  hold_until: number | null;
  doubt: DoubtKind | null;
  doubt_since: number | null;
  closing_until: number | null;
  updated_at: number;
  version: number;
  /** PostgreSQL only (schema version 2): the instance whose order is in flight (doubt `in-flight`), else null. */
  in_flight_instance?: number | null;
}

export interface UserRow {
  relay_user: string;
  crosstrade_key: string;
  webhook_url: string;
  relay_secret: string | null;
  account_group: string;
  /** PostgreSQL: a boolean; SQLite: 0 or 1. */
  paper: boolean | number;
  created_at: string;
  updated_at: string;
}

export interface LogRow {
  id: number;
  time: number;
  relay_user: string | null;
  relay_id: string | null;
  account: string | null;
  instrument: string | null;
  signal_type: SignalLogInput['signalType'];
  decision: SignalLogInput['decision'];
  reason: string;
  api_check: string | null;
  upstream_status: number | null;
  latency_ms: number | null;
  alert: string;
}

/** Accounts are compared case-insensitively: the row's key is the account in lower case. */
export function accountKey(account: string): string {
  return account.toLowerCase();
}

/** One text per key, equal for keys that name the same row. */
export function keyId(key: PositionKey): string {
  return JSON.stringify([key.accountGroup, accountKey(key.account), key.instrumentKey]);
}

export function rowKey(row: Pick<KeyRow, 'account_group' | 'account' | 'instrument_key'>): PositionKey {
  return { accountGroup: row.account_group, account: row.account, instrumentKey: row.instrument_key };
}

/** The row a record is written as: `updatedAt` and `version` stamped by the store. */
export function toKeyRow(key: PositionKey, instrument: string, record: KeyRecord, updatedAt: number, version: number): KeyRow {
  const { owner, doubt } = record;
  return {
    account_group: key.accountGroup,
    account_key: accountKey(key.account),
    instrument_key: key.instrumentKey,
    account: key.account,
    instrument,
    owner_user: owner?.relayUser ?? null,
    owner_id: owner?.relayId ?? null,
    direction: owner?.direction ?? null,
    quantity: owner?.quantity ?? null,
    opened_at: owner?.openedAt ?? null,
    claimed_at: owner?.claimedAt ?? null,
    hold_until: owner?.holdUntil ?? null,
    doubt: doubt?.kind ?? null,
    doubt_since: doubt?.since ?? null,
    closing_until: record.closingUntil ?? null,
    updated_at: updatedAt,
    version,
  };
}

export function toKeyRecord(row: KeyRow | null): KeyRecord {
  if (row === null) return { owner: null, doubt: null };
  const owner =
    row.owner_user === null || row.owner_id === null || row.direction === null
      ? null
      : {
          relayUser: row.owner_user,
          relayId: row.owner_id,
          direction: row.direction,
          quantity: row.quantity,
          openedAt: row.opened_at ?? 0,
          claimedAt: row.claimed_at ?? 0,
          holdUntil: row.hold_until ?? 0,
        };
  const doubt = row.doubt === null ? null : { kind: row.doubt, since: row.doubt_since ?? 0 };
  return row.closing_until === null || row.closing_until === undefined ? { owner, doubt } : { owner, doubt, closingUntil: Number(row.closing_until) };
}

export function toPositionRecord(row: KeyRow): PositionRecord[] {
  const { owner, doubt } = toKeyRecord(row);
  if (owner === null) return [];
  return [
    { ...owner, account: row.account, instrumentKey: row.instrument_key, instrument: row.instrument, doubt: doubt?.kind ?? null, updatedAt: row.updated_at },
  ];
}

export function toUserRecord(row: UserRow): UserRecord {
  return {
    relayUser: row.relay_user,
    crosstradeKey: row.crosstrade_key,
    webhookUrl: row.webhook_url,
    relaySecret: row.relay_secret,
    accountGroup: row.account_group,
    paper: row.paper === true || row.paper === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toLogRecord(row: LogRow): SignalLogRecord {
  return {
    id: row.id,
    time: row.time,
    relayUser: row.relay_user,
    relayId: row.relay_id,
    account: row.account,
    instrument: row.instrument,
    signalType: row.signal_type,
    decision: row.decision,
    reason: row.reason,
    apiCheck: row.api_check,
    upstreamStatus: row.upstream_status,
    latencyMs: row.latency_ms,
    alert: row.alert,
  };
}
