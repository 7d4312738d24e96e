import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyRecord } from '../../../src/engine/types.js';
import type { PositionKey, Store } from '../../../src/store/store.js';
import { A, B, BOB_KEY, identity, key, log, look, mark, record, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** Outcomes (settle) and refusals (recordRefusal): queued, written in the background or by flush(), applied before the next decision. */
export function describeQueueContract(harness: StoreHarness): void {
  const outcome = { decision: 'forwarded' as const, reason: 'delivered', upstreamStatus: 200, latencyMs: 12.5 };

  describe('settle', () => {
    let store: Store;
    let clock: number;
    beforeEach(async () => {
      clock = T0;
      store = await harness.open({ now: () => clock });
    });
    afterEach(() => harness.cleanup());

    it('writes the outcome’s record, its marks and the log outcome when the key is as the alert left it', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'), [mark(B, true)])], { log: log() }), null);
      clock = T0 + 100;
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A), [mark(A, false)]) }], log: { id: sent.logId!, outcome } });
      await store.flush();
      const view = await viewOf(store);
      expect(view.record).toEqual(record(A));
      expect(view.version).not.toBe(sent.versions[0]);
      expect(await store.listPositions()).toMatchObject([{ doubt: null, updatedAt: T0 + 100 }]);
      expect((await viewOf(store, key, B)).sender.holdsNothing).toBe(true);
      expect(await store.listLogs({ limit: 5 })).toMatchObject([
        { id: sent.logId, decision: 'forwarded', reason: 'delivered', upstreamStatus: 200, latencyMs: 12.5 },
      ]);
    });

    it('is written in the background without flush(), and seen by another store on the same database', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: { id: sent.logId!, outcome } });
      const beside = await harness.reopen({ now: () => clock });
      let logs = await beside.listLogs({ limit: 1 });
      for (let waited = 0; logs[0]?.decision !== 'forwarded' && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        logs = await beside.listLogs({ limit: 1 });
      }
      expect(logs).toMatchObject([{ id: sent.logId, decision: 'forwarded' }]);
      expect((await viewOf(beside)).record).toEqual(record(A));
    });

    it('leaves a record written since untouched, but still applies the marks and the log outcome', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      const since = await store.arbitrate([key], B, writing([write(record(B, 'in-flight'))]), null);
      store.settle({
        keys: [{ key, version: sent.versions[0]!, write: write({ owner: null, doubt: null }, [mark(A, true)]) }],
        log: { id: sent.logId!, outcome: { ...outcome, decision: 'failed', reason: 'forward-failed' } },
      });
      await store.flush();
      expect(await viewOf(store)).toMatchObject({ record: record(B, 'in-flight'), version: since.versions[0], sender: { holdsNothing: true } });
      expect(await store.listLogs({ limit: 5 })).toMatchObject([{ id: sent.logId, decision: 'failed', reason: 'forward-failed' }]);
    });

    it('does not bring back a record cleared since', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))]), null);
      clock = T0 + 100;
      expect(await store.clearPosition({ relayUser: 'bob', account: 'sim101', instrumentKey: 'ES' })).toBe(true);
      const cleared = await viewOf(store);
      expect(cleared.version).not.toBe(sent.versions[0]);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: null });
      await store.flush();
      expect(await viewOf(store)).toMatchObject({ record: { owner: null, doubt: { kind: 'changed', since: T0 + 100 } }, version: cleared.version });
    });

    it('settles a key that had no row only while it still has none', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      await store.arbitrate([other], B, writing([write(record(B))]), null);
      store.settle({
        keys: [
          { key, version: null, write: write(record(A, 'changed')) },
          { key: other, version: null, write: write(record(A)) },
        ],
        log: null,
      });
      await store.flush();
      expect((await viewOf(store)).record).toEqual(record(A, 'changed'));
      expect((await viewOf(store, other)).record).toEqual(record(B));
    });

    it('settles each key of an alert on its own', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const sent = await store.arbitrate([key, other], A, writing([write(record(A, 'in-flight')), write(record(A, 'in-flight'))]), null);
      await store.arbitrate([other], B, writing([write(record(B))]), null);
      store.settle({
        keys: [
          { key, version: sent.versions[0]!, write: write(record(A, 'unknown-outcome')) },
          { key: other, version: sent.versions[1]!, write: write(record(A, 'unknown-outcome')) },
        ],
        log: null,
      });
      await store.flush();
      expect((await look(store, [key, other])).views.map((v) => v.record)).toEqual([record(A, 'unknown-outcome'), record(B)]);
    });

    it('is applied by the next arbitrate before it decides, even before its own write ran', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: { id: sent.logId!, outcome } });
      expect((await viewOf(store)).record).toEqual(record(A));
      expect((await store.listLogs({ limit: 1 }))[0]?.decision).toBe('forwarded');
    });

    it('is applied in the order queued', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A), [mark(B, true)]) }], log: { id: sent.logId!, outcome } });
      store.recordRefusal({ keys: [key], marks: [mark(B, false)], record: null, identity: null, log: log({ relayId: 'B', decision: 'blocked' }) });
      await store.flush();
      expect((await viewOf(store, key, B)).sender.holdsNothing).toBe(false);
      expect((await store.listLogs({ limit: 5 })).map((l) => [l.relayId, l.decision])).toEqual([
        ['B', 'blocked'],
        ['A', 'forwarded'],
      ]);
    });

    it('flush() resolves at once with nothing queued, and close() writes what is still queued', async () => {
      await store.flush();
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: { id: sent.logId!, outcome } });
      await store.close();
      const reopened = await harness.reopen({ now: () => clock });
      expect((await viewOf(reopened)).record).toEqual(record(A));
      expect(await reopened.listLogs({ limit: 1 })).toMatchObject([{ id: sent.logId, decision: 'forwarded' }]);
    });
  });

  describe('recordRefusal', () => {
    let store: Store;
    let clock: number;
    beforeEach(async () => {
      clock = T0;
      store = await harness.open({ now: () => clock });
    });
    afterEach(() => harness.cleanup());

    it('records the refused alert’s log row, marks and fingerprint (as refused) once the queue runs', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      store.recordRefusal({
        keys: [key, other],
        marks: [mark(A, true)],
        record: null,
        identity: identity('fp-r'),
        log: log({ decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }),
      });
      await store.flush();
      expect(await store.listLogs({ limit: 5 })).toMatchObject([{ decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }]);
      const { views, earlier } = await look(store, [key, other], A, identity('fp-r'));
      expect(views.map((v) => v.sender)).toEqual([
        { holdsNothing: true, lastFingerprint: 'fp-r' },
        { holdsNothing: true, lastFingerprint: 'fp-r' },
      ]);
      expect(earlier).toEqual({ at: T0, refused: true });
    });

    it('records a refusal without an identity and without keys', async () => {
      store.recordRefusal({ keys: [], marks: [], record: null, identity: null, log: log({ decision: 'blocked' }) });
      await store.flush();
      expect(await store.listLogs({ limit: 5 })).toHaveLength(1);
    });

    it('puts the record of a refused alert’s owner in doubt through its `record` function, applied to the record as it is when written', async () => {
      const nq: PositionKey = { ...key, instrumentKey: 'NQ' };
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))]), null);
      // An outcome lands between the refusal and its write: the function sees the settled record.
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: null });
      const seen: KeyRecord[] = [];
      clock = T0 + 50;
      store.recordRefusal({
        keys: [key, nq],
        marks: [],
        record: (rec) => {
          seen.push(rec);
          return { ...rec, doubt: { kind: 'unknown-outcome', since: T0 + 50 } };
        },
        identity: null,
        log: log({ decision: 'blocked', reason: 'database unavailable: nothing was decided or forwarded' }),
      });
      await store.flush();
      // Only keys that have a record: NQ has none, and the function does not create one.
      expect(seen).toEqual([record(A)]);
      const { views } = await look(store, [key, nq]);
      expect(views[0]).toMatchObject({ record: { owner: record(A).owner, doubt: { kind: 'unknown-outcome', since: T0 + 50 } } });
      expect(views[0]?.version).not.toBe(sent.versions[0]);
      expect(views[1]).toMatchObject({ record: { owner: null, doubt: null }, version: null });
      expect(await store.listPositions()).toMatchObject([{ relayId: 'A', doubt: 'unknown-outcome' }]);
    });

    it('leaves the record as it is when `record` is null or answers null', async () => {
      const nq: PositionKey = { ...key, instrumentKey: 'NQ' };
      const sent = await store.arbitrate([key, nq], A, writing([write(record(A)), write(record(A, 'working-order'))]), null);
      store.recordRefusal({ keys: [key], marks: [mark(B, true)], record: null, identity: null, log: log({ decision: 'blocked' }) });
      store.recordRefusal({ keys: [nq], marks: [], record: () => null, identity: null, log: log({ decision: 'blocked' }) });
      await store.flush();
      const { views } = await look(store, [key, nq], B);
      expect(views.map((v) => [v.record, v.version])).toEqual([
        [record(A), sent.versions[0]],
        [record(A, 'working-order'), sent.versions[1]],
      ]);
      expect(views[0]?.sender.holdsNothing).toBe(true);
      expect(await store.listLogs({ limit: 5 })).toHaveLength(2);
    });

    it('a decided copy seen after a refused one is no longer refused', async () => {
      store.recordRefusal({ keys: [key], marks: [], record: null, identity: identity('fp'), log: log({ decision: 'blocked' }) });
      clock = T0 + 5000;
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      expect((await look(store, [key], A, identity('fp'))).earlier).toEqual({ at: T0 + 5000, refused: false });
    });

    it('a refused copy never hides a decided one: TradingView’s resend of it stays a duplicate', async () => {
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      clock = T0 + 3000;
      store.recordRefusal({ keys: [key], marks: [], record: null, identity: identity('fp'), log: log({ time: T0 + 3000, decision: 'blocked' }) });
      await store.flush();
      expect((await look(store, [key], A, identity('fp'))).earlier).toEqual({ at: T0, refused: false });
    });
  });
}
