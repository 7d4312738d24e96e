import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PositionKey, Store } from '../../../src/store/store.js';
import { A, B, BOB_KEY, GROUP, key, log, look, mark, owner, record, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** The atomic step: what `decide` sees, what its writes become, and arbitrateAs's plan. */
export function describeArbitrationContract(harness: StoreHarness): void {
  describe('arbitrate', () => {
    let store: Store;
    beforeEach(async () => {
      store = await harness.open({ now: () => T0 });
    });
    afterEach(() => harness.cleanup());

    it('shows an unwritten key as empty, writes a record with a fresh version and matches accounts case-insensitively', async () => {
      const result = await store.arbitrate(
        [key],
        A,
        (views, earlier) => {
          expect(views).toEqual([{ record: { owner: null, doubt: null }, version: null, sender: { holdsNothing: false, lastFingerprint: null } }]);
          expect(earlier).toBeNull();
          return { value: 'x', writes: [write(record(A, 'in-flight'))], seen: false, log: log() };
        },
        null,
      );
      expect(result.value).toBe('x');
      expect(result.logId).toBeTypeOf('number');
      expect(result.versions[0]).toBeTypeOf('number');
      const again = await viewOf(store, { ...key, account: 'SIM101' });
      expect(again.record).toEqual(record(A, 'in-flight'));
      expect(again.version).toBe(result.versions[0]);
      expect(await store.listPositions('bob')).toMatchObject([
        { relayId: 'A', account: 'Sim101', instrument: 'ES 03-26', instrumentKey: 'ES', doubt: 'in-flight' },
      ]);
    });

    it('answers each key’s version: unchanged when nothing was written, new on every write, null once a record is emptied', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const first = await store.arbitrate([key, other], A, writing([write(record(A)), null]), null);
      expect(first.versions[1]).toBeNull();
      const kept = await store.arbitrate([key, other], A, writing([write(null, [mark(B, true)]), null]), null);
      expect(kept.versions).toEqual([first.versions[0], null]);
      const rewritten = await store.arbitrate([key], A, writing([write(record(A))]), null);
      expect(rewritten.versions[0]).not.toBe(first.versions[0]);
      const emptied = await store.arbitrate([key], A, writing([write({ owner: null, doubt: null })]), null);
      expect(emptied.versions).toEqual([null]);
      expect((await viewOf(store)).record).toEqual({ owner: null, doubt: null });
      expect(emptied.logId).toBeNull();
    });

    it('keeps the instrument the record shows when a write names none (FLATTENEVERYTHING)', async () => {
      await store.arbitrate([key], A, writing([write(record(A))]), null);
      await store.arbitrate([key], A, writing([{ record: record(A, 'closing'), marks: [], instrument: '' }]), null);
      expect(await store.listPositions()).toMatchObject([{ instrument: 'ES 03-26', doubt: 'closing' }]);
    });

    it('gives the signal-log rows it writes increasing ids', async () => {
      const ids: number[] = [];
      for (const relayId of ['A', 'B', 'C']) {
        const result = await store.arbitrate([key], { relayUser: 'bob', relayId }, writing([null], { log: log({ relayId }) }), null);
        ids.push(result.logId!);
      }
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(ids).size).toBe(3);
      expect((await store.listLogs({ limit: 5 })).map((l) => [l.id, l.relayId])).toEqual([
        [ids[2], 'C'],
        [ids[1], 'B'],
        [ids[0], 'A'],
      ]);
    });

    it('applies marks on each key and shows each strategy its own', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      await store.arbitrate([key, other], A, writing([write(null, [mark(B, true)]), write(null, [mark(B, true)])]), null);
      expect((await look(store, [{ ...key, account: 'SIM101' }, other], B)).views.map((v) => v.sender.holdsNothing)).toEqual([true, true]);
      expect((await viewOf(store, key, A)).sender.holdsNothing).toBe(false);
      expect((await viewOf(store, key, { relayUser: 'amy', relayId: 'B' })).sender.holdsNothing).toBe(false);
      await store.arbitrate([key], B, writing([write(null, [mark(B, false)])]), null);
      expect((await look(store, [key, other], B)).views.map((v) => v.sender.holdsNothing)).toEqual([false, true]);
    });

    it('is atomic: of many simultaneous claims on one key through several stores, exactly one wins and the rest see it', async () => {
      const stores = [store, await harness.reopen({ now: () => T0 }), await harness.reopen({ now: () => T0 })];
      const claims = Array.from({ length: 30 }, (_, i) => {
        const claimant = { relayUser: 'bob', relayId: `S${i}` };
        return stores[i % stores.length]!.arbitrate(
          [key],
          claimant,
          (views) => {
            const free = views[0]?.record.owner === null;
            return {
              value: free,
              writes: [free ? write({ owner: owner(claimant), doubt: null }) : null],
              seen: false,
              log: log({ relayId: claimant.relayId }),
            };
          },
          null,
        );
      });
      const won = (await Promise.all(claims)).filter((result) => result.value);
      expect(won).toHaveLength(1);
      expect(await store.listPositions()).toHaveLength(1);
      expect(await store.countLogs({})).toEqual({ pending: 30 });
    });

    it('rejects with the decision’s own error when it throws, and loses nothing queued before it', async () => {
      const first = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({
        keys: [{ key, version: first.versions[0]!, write: write(record(A)) }],
        log: { id: first.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 3 } },
      });
      await expect(
        store.arbitrate(
          [key],
          A,
          (views) => {
            expect(views[0]?.record).toEqual(record(A)); // the settlement was applied before deciding
            throw new Error('boom');
          },
          null,
        ),
      ).rejects.toThrow('boom');
      await store.flush();
      expect(await store.listPositions()).toMatchObject([{ relayId: 'A', doubt: null }]);
      expect(await store.listLogs({ limit: 5 })).toMatchObject([{ id: first.logId, decision: 'forwarded', upstreamStatus: 200, latencyMs: 3 }]);
    });
  });

  describe('arbitrateAs', () => {
    let store: Store;
    beforeEach(async () => {
      store = await harness.open({ now: () => T0 });
    });
    afterEach(() => harness.cleanup());

    it("reads the user and lets the plan choose the keys in the decision's transaction; a null plan decides and logs nothing", async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://app.crosstrade.io/v1/send/x/y' });
      await store.arbitrate([key], A, writing([write(record(A))]), null);
      const result = await store.arbitrateAs('bob', (user, listKeys) => {
        expect(user).toMatchObject({ relayUser: 'bob', accountGroup: GROUP });
        const keys = listKeys(user!.accountGroup);
        expect(keys).toEqual([key]);
        return { keys, sender: B, decide: writing([write(record(B))], { log: log({ relayId: 'B' }) }), identity: null };
      });
      expect(result?.logId).toBeTypeOf('number');
      expect((await viewOf(store)).record).toEqual(record(B));

      let seen: unknown = 'not called';
      expect(
        await store.arbitrateAs('nobody', (user) => {
          seen = user;
          return null;
        }),
      ).toBeNull();
      expect(seen).toBeNull();
      expect(await store.listLogs({ limit: 10 })).toHaveLength(1);
    });

    it('decides on the plan’s keys with the sender’s view and answers their versions, like arbitrate', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      await store.arbitrate([key], A, writing([write(null, [mark(B, true)])]), null);
      const other: PositionKey = { ...key, account: 'Sim102' };
      const result = await store.arbitrateAs('bob', (user) => ({
        keys: [key, { ...other, accountGroup: user!.accountGroup }],
        sender: B,
        decide: (views) => ({ value: views.map((v) => v.sender.holdsNothing), writes: [null, write(record(B))], seen: false, log: null }),
        identity: null,
      }));
      expect(result).toEqual({ value: [true, false], logId: null, versions: [null, expect.any(Number)] });
      expect((await viewOf(store, other, B)).version).toBe(result?.versions[1]);
    });
  });
}
