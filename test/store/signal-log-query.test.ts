import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import type { SignalLogInput, Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The signal-log queries behind `trade-relay logs --since/--decision/--relay-id` and its count line.

const T0 = Date.UTC(2026, 0, 5, 14, 0);
let temp: ReturnType<typeof makeTempDir>;
let store: Store;

beforeEach(() => {
  temp = makeTempDir();
  store = createSqliteStore(temp.file('relay.db'));
});

afterEach(() => {
  store.close();
  temp.cleanup();
});

function row(minute: number, overrides: Partial<SignalLogInput>): SignalLogInput {
  return {
    time: T0 + minute * 60_000,
    relayUser: 'alice',
    relayId: 'A',
    account: 'Sim101',
    instrument: 'ES 03-26',
    signalType: 'entry',
    decision: 'forwarded',
    reason: 'flat',
    apiCheck: null,
    upstreamStatus: 200,
    latencyMs: 2,
    alert: 'relay_user=alice;',
    ...overrides,
  };
}

describe('signal-log queries', () => {
  beforeEach(() => {
    store.appendLog(row(0, {}));
    store.appendLog(row(1, { decision: 'blocked', relayId: 'B' }));
    store.appendLog(row(2, { decision: 'rejected', relayId: null, signalType: null }));
    store.appendLog(row(3, { decision: 'blocked', relayUser: 'bob' }));
    store.appendLog(row(4, { decision: 'failed', relayId: 'B' }));
  });

  const minutes = (query: Parameters<Store['listLogs']>[0]) => store.listLogs(query).map((r) => (r.time - T0) / 60_000);

  it('filters by user, strategy, decisions and time, newest first, all conditions together', () => {
    expect(minutes({ limit: 10 })).toEqual([4, 3, 2, 1, 0]);
    expect(minutes({ relayUser: 'alice', limit: 10 })).toEqual([4, 2, 1, 0]);
    expect(minutes({ relayId: 'B', limit: 10 })).toEqual([4, 1]);
    expect(minutes({ decisions: ['blocked', 'rejected'], limit: 10 })).toEqual([3, 2, 1]);
    expect(minutes({ since: T0 + 2 * 60_000, limit: 10 })).toEqual([4, 3, 2]);
    expect(minutes({ relayUser: 'alice', decisions: ['blocked'], since: T0 + 60_000, limit: 10 })).toEqual([1]);
    expect(minutes({ decisions: [], limit: 10 })).toEqual([]);
    expect(minutes({ relayId: 'B', limit: 1 })).toEqual([4]);
  });

  it('counts the matching rows per decision, whatever the limit', () => {
    expect(store.countLogs({})).toEqual({ forwarded: 1, blocked: 2, rejected: 1, failed: 1 });
    expect(store.countLogs({ relayUser: 'alice', since: T0 + 60_000 })).toEqual({ blocked: 1, rejected: 1, failed: 1 });
    expect(store.countLogs({ relayUser: 'nobody' })).toEqual({});
  });
});
