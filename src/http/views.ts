import type { PositionRecord, SignalLogRecord, UserRecord } from '../store/store.js';
import { maskSecret, maskUrl } from './mask.js';

// The shapes the management API, the CLI and the README show. Secrets leave only masked.

export function userView(user: UserRecord) {
  return {
    relay_user: user.relayUser,
    crosstrade_key: maskSecret(user.crosstradeKey),
    webhook_url: maskUrl(user.webhookUrl),
    relay_secret: user.relaySecret === null ? null : '****',
    paper: user.paper,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

export function positionView(position: PositionRecord) {
  return {
    relay_user: position.relayUser,
    account: position.account,
    instrument: position.instrument,
    instrument_key: position.instrumentKey,
    relay_id: position.relayId,
    direction: position.direction,
    opened_at: iso(position.openedAt),
    updated_at: iso(position.updatedAt),
    hold_until: iso(position.holdUntil),
    doubt: position.doubt,
  };
}

export function logView(entry: SignalLogRecord) {
  return {
    id: entry.id,
    time: iso(entry.time),
    relay_user: entry.relayUser,
    relay_id: entry.relayId,
    account: entry.account,
    instrument: entry.instrument,
    signal_type: entry.signalType,
    decision: entry.decision,
    reason: entry.reason,
    api_check: entry.apiCheck,
    upstream_status: entry.upstreamStatus,
    latency_ms: entry.latencyMs,
    alert: entry.alert,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
