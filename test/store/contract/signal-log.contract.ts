import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalLogInput, Store } from '../../../src/store/store.js';
import { A, identity, key, log, look, T0, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** The signal log: rows appended and listed newest first, the filtered queries and counts behind `trade-relay logs`, pruning. */
export function describeSignalLogContract(harness: StoreHarness): void {
  describe('signal log', () => {
    let store: Store;
    let clock: number;
    beforeEach(async () => {
      clock = T0;
      store = await harness.open({ now: () => clock });
    });
    afterEach(() => harness.cleanup());

    it('appends log rows and lists them newest first, per user and limited', async () => {
      const id = await store.appendLog(log());
      const later = await store.appendLog(log({ relayUser: 'amy', decision: 'blocked' }));
      expect(later).toBeGreaterThan(id);
      expect((await store.listLogs({ limit: 10 })).map((l) => l.relayUser)).toEqual(['amy', 'bob']);
      expect(await store.listLogs({ relayUser: 'bob', limit: 10 })).toEqual([{ ...log(), id }]);
      expect(await store.listLogs({ limit: 1 })).toHaveLength(1);
    });

    it('keeps every field of a row as written, nulls and fractions included', async () => {
      const row: SignalLogInput = {
        time: T0 + 1,
        relayUser: null,
        relayId: null,
        account: null,
        instrument: null,
        signalType: null,
        decision: 'rejected',
        reason: 'unreadable alert: “quotes” and ünïcödé',
        apiCheck: 'open: Long 1 ES 03-26',
        upstreamStatus: 502,
        latencyMs: 12.75,
        alert: 'line one\nline two; key=[removed]',
      };
      const id = await store.appendLog(row);
      expect(await store.listLogs({ limit: 1 })).toEqual([{ ...row, id }]);
    });

    it('prunes signal-log rows past the retention and old fingerprints, which are then no longer found', async () => {
      await store.appendLog(log({ time: 1000, decision: 'blocked' }));
      await store.appendLog(log({ time: 5000, decision: 'blocked' }));
      await store.arbitrate([key], A, writing([null], { seen: true, log: log({ time: 6000, decision: 'blocked' }) }), identity('f', 60_000));
      clock = T0 + 10;
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('g', 60_000));
      expect(await store.prune({ logsBefore: 2000, fingerprintsBefore: T0 + 1 })).toEqual({ logs: 1, fingerprints: 1 });
      expect((await store.listLogs({ limit: 10 })).map((l) => l.time)).toEqual([6000, 5000]);
      expect((await look(store, [key], A, identity('f', 60_000))).earlier).toBeNull();
      expect((await look(store, [key], A, identity('g', 60_000))).earlier).toEqual({ at: T0 + 10, refused: false });
      expect(await store.prune({ logsBefore: 2000, fingerprintsBefore: T0 + 1 })).toEqual({ logs: 0, fingerprints: 0 });
    });

    it('prunes more rows than one batch', async () => {
      for (let i = 0; i < 2500; i++) await store.appendLog(log({ time: i, decision: 'blocked' }));
      await store.appendLog(log({ time: 10_000, decision: 'blocked' }));
      expect(await store.prune({ logsBefore: 5000, fingerprintsBefore: 0 })).toEqual({ logs: 2500, fingerprints: 0 });
      expect(await store.countLogs({})).toEqual({ blocked: 1 });
    });
  });

  describe('signal-log queries', () => {
    // The queries behind `trade-relay logs --since/--decision/--relay-id` and its count line.
    const Q0 = Date.UTC(2026, 0, 5, 14, 0);
    let store: Store;

    function row(minute: number, overrides: Partial<SignalLogInput>): SignalLogInput {
      return {
        time: Q0 + minute * 60_000,
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

    beforeEach(async () => {
      store = await harness.open();
      await store.appendLog(row(0, {}));
      await store.appendLog(row(1, { decision: 'blocked', relayId: 'B' }));
      await store.appendLog(row(2, { decision: 'rejected', relayId: null, signalType: null }));
      await store.appendLog(row(3, { decision: 'blocked', relayUser: 'bob' }));
      await store.appendLog(row(4, { decision: 'failed', relayId: 'B' }));
    });
    afterEach(() => harness.cleanup());

    const minutes = async (query: Parameters<Store['listLogs']>[0]) => (await store.listLogs(query)).map((r) => (r.time - Q0) / 60_000);

    it('filters by user, strategy, decisions and time, newest first, all conditions together', async () => {
      expect(await minutes({ limit: 10 })).toEqual([4, 3, 2, 1, 0]);
      expect(await minutes({ relayUser: 'alice', limit: 10 })).toEqual([4, 2, 1, 0]);
      expect(await minutes({ relayId: 'B', limit: 10 })).toEqual([4, 1]);
      expect(await minutes({ decisions: ['blocked', 'rejected'], limit: 10 })).toEqual([3, 2, 1]);
      expect(await minutes({ since: Q0 + 2 * 60_000, limit: 10 })).toEqual([4, 3, 2]);
      expect(await minutes({ relayUser: 'alice', decisions: ['blocked'], since: Q0 + 60_000, limit: 10 })).toEqual([1]);
      expect(await minutes({ decisions: [], limit: 10 })).toEqual([]);
      expect(await minutes({ relayId: 'B', limit: 1 })).toEqual([4]);
    });

    it('lists rows before a time and after an id (the filters and live feed of the console)', async () => {
      expect(await minutes({ until: Q0 + 2 * 60_000, limit: 10 })).toEqual([1, 0]);
      expect(await minutes({ since: Q0 + 60_000, until: Q0 + 3 * 60_000, limit: 10 })).toEqual([2, 1]);
      const ids = (await store.listLogs({ limit: 10 })).map((r) => r.id);
      expect(await minutes({ afterId: ids[2]!, limit: 10 })).toEqual([4, 3]);
      expect(await minutes({ afterId: ids[0]!, limit: 10 })).toEqual([]);
      // Oldest first: a reader of what is new gets the rows right after its last one, none skipped.
      expect(await minutes({ afterId: ids[4]!, limit: 2, oldestFirst: true })).toEqual([1, 2]);
      expect(await minutes({ oldestFirst: true, limit: 2 })).toEqual([0, 1]);
      expect(await store.countLogs({ afterId: ids[2]!, relayId: 'B' })).toEqual({ failed: 1 });
    });

    it('counts the matching rows per decision, whatever the limit', async () => {
      expect(await store.countLogs({})).toEqual({ forwarded: 1, blocked: 2, rejected: 1, failed: 1 });
      expect(await store.countLogs({ relayUser: 'alice', since: Q0 + 60_000 })).toEqual({ blocked: 1, rejected: 1, failed: 1 });
      expect(await store.countLogs({ relayUser: 'nobody' })).toEqual({});
      expect(await store.countLogs({ decisions: [] })).toEqual({});
    });

    it('lists and counts the pending rows a queued outcome has not completed yet, once it has', async () => {
      const sent = await store.arbitrate([key], A, writing([null], { log: row(5, { decision: 'pending' }) }), null);
      expect(await store.countLogs({ decisions: ['pending'] })).toEqual({ pending: 1 });
      store.settle({ keys: [], log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 4 } } });
      // Listings apply what is queued first: they never show an outcome already known as pending.
      expect(await store.countLogs({ decisions: ['pending'] })).toEqual({});
      expect(await minutes({ decisions: ['forwarded'], limit: 10 })).toEqual([5, 0]);
    });
  });
}
