import type { SignalLogRecord } from '../store/store.js';
import { shadowPosition } from './shadow-position.js';

export interface StrategyCounts {
  alerts: number;
  forwarded: number;
  blocked: number;
  dropped: number;
  failed: number;
}

export interface StrategyLine {
  relay_user: string;
  relay_id: string;
  today: StrategyCounts;
  week: StrategyCounts;
}

/** An entry a strategy had blocked: what it then believed it held, and who held the key. */
export interface CostLine {
  id: number;
  time: string;
  relay_user: string;
  relay_id: string;
  account: string | null;
  instrument: string | null;
  signal_type: string | null;
  /** Its shadow position: `long 2`, from its own market_position fields; null when the alert did not say. */
  believed: string | null;
  /** The strategy that owned the key, as the reason names it; null when the reason names none. */
  owner: string | null;
  reason: string;
}

const OPENING: ReadonlySet<string> = new Set(['entry', 'reversal']);

/**
 * The Strategies page (issue 11): per strategy, the alerts of today (from `todayStart`) and of the
 * whole of `rows` (the last 7 days, newest first), and "what arbitration cost": each blocked
 * entry or reversal with the position the strategy then believed it held and its owner.
 */
export function strategyReport(rows: SignalLogRecord[], todayStart: number): { strategies: StrategyLine[]; cost: CostLine[] } {
  const lines = new Map<string, StrategyLine>();
  const cost: CostLine[] = [];
  for (const row of rows) {
    if (row.relayUser === null || row.relayId === null || row.decision === 'admin') continue;
    const key = `${row.relayUser}\u0000${row.relayId}`;
    let line = lines.get(key);
    if (line === undefined) {
      line = { relay_user: row.relayUser, relay_id: row.relayId, today: zero(), week: zero() };
      lines.set(key, line);
    }
    count(line.week, row);
    if (row.time >= todayStart) count(line.today, row);
    if (row.decision === 'blocked' && row.signalType !== null && OPENING.has(row.signalType)) {
      cost.push({
        id: row.id,
        time: new Date(row.time).toISOString(),
        relay_user: row.relayUser,
        relay_id: row.relayId,
        account: row.account,
        instrument: row.instrument,
        signal_type: row.signalType,
        believed: shadowPosition(row.alert),
        owner: /owned by ([^,]+)/.exec(row.reason)?.[1]?.trim() ?? null,
        reason: row.reason,
      });
    }
  }
  const strategies = [...lines.values()].sort((a, b) => a.relay_user.localeCompare(b.relay_user) || a.relay_id.localeCompare(b.relay_id));
  return { strategies, cost };
}

function zero(): StrategyCounts {
  return { alerts: 0, forwarded: 0, blocked: 0, dropped: 0, failed: 0 };
}

function count(counts: StrategyCounts, row: SignalLogRecord): void {
  counts.alerts++;
  // An order sent whose outcome is unknown was forwarded; `failed` is what CrossTrade refused.
  if (row.decision === 'forwarded' || row.decision === 'unknown' || row.decision === 'pending') counts.forwarded++;
  else if (row.decision === 'blocked') counts.blocked++;
  else if (row.decision === 'dropped') counts.dropped++;
  else if (row.decision === 'failed') counts.failed++;
}
