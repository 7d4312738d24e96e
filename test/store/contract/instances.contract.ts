import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { A, key, log, record, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** Instances (issue 10): who a store is, who is alive beside it, and that a live one's forwards are never closed by another. */
export function describeInstancesContract(harness: StoreHarness): void {
  describe('instances', () => {
    afterEach(() => harness.cleanup());

    it('knows its own instance (this process, this machine) and lists it among the live ones', async () => {
      const before = Date.now();
      const store = await harness.open();
      expect(store.instance).toEqual({ id: expect.any(Number), host: os.hostname(), pid: process.pid, startedAt: expect.any(Number) });
      expect(Number.isSafeInteger(store.instance.id)).toBe(true);
      expect(store.instance.startedAt).toBeGreaterThanOrEqual(before);
      expect(store.instance.startedAt).toBeLessThanOrEqual(Date.now());
      const listed = await store.listInstances();
      expect(listed.find((i) => i.id === store.instance.id)).toEqual({ ...store.instance, lastSeen: expect.any(Number) });
    });

    it('gives two stores on one database two instances, and a closed one is no longer listed', async () => {
      const first = await harness.open();
      const second = await harness.reopen();
      expect(second.instance.id).not.toBe(first.instance.id);
      await first.close();
      const listed = (await second.listInstances()).map((i) => i.id);
      expect(listed).toContain(second.instance.id);
      expect(listed).not.toContain(first.instance.id);
    });

    it('never closes the forwards of a live instance: its own, or those of another store still open', async () => {
      const store = await harness.open({ now: () => T0 });
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      expect(await store.closeStoppedInstances(() => 'stopped')).toEqual({ instances: [], logs: 0, keys: 0 });
      const beside = await harness.reopen({ now: () => T0 });
      expect(await beside.closeStoppedInstances(() => 'stopped')).toEqual({ instances: [], logs: 0, keys: 0 });
      expect((await viewOf(beside)).record).toEqual(record(A, 'in-flight'));
      expect(await beside.listLogs({ limit: 1 })).toMatchObject([{ id: sent.logId, decision: 'pending' }]);
      store.settle({
        keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }],
        log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 } },
      });
      await store.flush();
      expect((await viewOf(beside)).record).toEqual(record(A));
      expect(await beside.listLogs({ limit: 1 })).toMatchObject([{ id: sent.logId, decision: 'forwarded' }]);
    });
  });
}
