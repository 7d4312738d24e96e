import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PositionKey, Store } from '../../../src/store/store.js';
import { A, key, log, look, record, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** After a crash: forwards left pending or in flight are closed as of unknown outcome. */
export function describeCrashRecoveryContract(harness: StoreHarness): void {
  describe('after a crash', () => {
    let store: Store;
    beforeEach(async () => {
      store = await harness.open({ now: () => T0 });
    });
    afterEach(() => harness.cleanup());

    it('closes forwards a crash left: pending rows become unknown, in-flight records of unknown outcome, versions kept', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const nq: PositionKey = { ...key, instrumentKey: 'NQ' };
      const sent = await store.arbitrate(
        [key, other, nq],
        A,
        writing([write(record(A, 'in-flight')), write(record(null, 'in-flight')), write(record(A, 'working-order'))]),
        null,
      );
      await store.appendLog(log({ decision: 'pending' }));
      await store.appendLog(log({ decision: 'forwarded' }));
      await store.appendLog(log({ decision: 'pending' }));
      await store.close();
      store = await harness.reopen({ now: () => T0 });
      expect(await store.closeInterruptedForwards('interrupted: the relay stopped before CrossTrade answered')).toBe(2);
      expect((await store.listLogs({ limit: 10 })).map((l) => [l.decision, l.reason])).toEqual([
        ['unknown', 'interrupted: the relay stopped before CrossTrade answered'],
        ['forwarded', 'entry: nobody owns the position'],
        ['unknown', 'interrupted: the relay stopped before CrossTrade answered'],
      ]);
      const { views } = await look(store, [key, other, nq]);
      expect(views.map((v) => v.record)).toEqual([record(A, 'unknown-outcome'), record(null, 'unknown-outcome'), record(A, 'working-order')]);
      expect(views.map((v) => v.version)).toEqual(sent.versions);
      expect(await store.closeInterruptedForwards('again')).toBe(0);
    });

    it('lets a settlement of the same order still land after a second store closed interrupted forwards (the version is kept)', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))]), null);
      const beside = await harness.reopen({ now: () => T0 });
      await beside.closeInterruptedForwards('interrupted');
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: null });
      await store.flush();
      expect((await viewOf(store)).record).toEqual(record(A));
    });

    it('closes, when it closes as interrupted, only what it left unfinished itself once its queued outcomes are written', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const third: PositionKey = { ...key, account: 'Sim103' };
      const beside = await harness.reopen({ now: () => T0 });
      const settled = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log({ decision: 'pending' }) }), null);
      const left = await store.arbitrate([other], A, writing([write(record(A, 'in-flight'))], { log: log({ decision: 'pending' }) }), null);
      const besides = await beside.arbitrate([third], A, writing([write(record(A, 'in-flight'))], { log: log({ decision: 'pending' }) }), null);
      // Queued, not yet written: close writes it first.
      store.settle({
        keys: [{ key, version: settled.versions[0]!, write: write(record(A)) }],
        log: { id: settled.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 } },
      });
      await store.close('interrupted: the relay stopped before CrossTrade answered');
      const rows = await beside.listLogs({ limit: 10 });
      expect(rows.map((l) => [l.id, l.decision, l.reason])).toEqual([
        [besides.logId, 'pending', 'entry: nobody owns the position'],
        [left.logId, 'unknown', 'interrupted: the relay stopped before CrossTrade answered'],
        [settled.logId, 'forwarded', 'ok'],
      ]);
      const { views } = await look(beside, [key, other, third]);
      expect(views.map((v) => v.record)).toEqual([record(A), record(A, 'unknown-outcome'), record(A, 'in-flight')]);
      // The version is kept: an outcome that still comes lands (as after closeInterruptedForwards).
      expect(views[1]?.version).toBe(left.versions[0]);
    });

    it('leaves a row that was settled before the restart as it was', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({
        keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }],
        log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 } },
      });
      await store.close();
      const restarted = await harness.reopen({ now: () => T0 });
      expect(await restarted.closeInterruptedForwards('interrupted')).toBe(0);
      expect((await viewOf(restarted)).record).toEqual(record(A));
      expect(await restarted.listLogs({ limit: 1 })).toMatchObject([{ id: sent.logId, decision: 'forwarded' }]);
    });
  });
}
