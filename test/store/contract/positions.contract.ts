import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../../src/engine/types.js';
import type { PositionKey, Store } from '../../../src/store/store.js';
import { A, BOB_KEY, GROUP, key, owner, record, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** Owned keys as listings show them, the keys of an account group, and releasing a key by hand. */
export function describePositionsContract(harness: StoreHarness): void {
  describe('positions and clearing by hand', () => {
    let store: Store;
    let clock: number;
    beforeEach(async () => {
      clock = T0;
      store = await harness.open({ now: () => clock });
    });
    afterEach(() => harness.cleanup());

    it('keeps a record in doubt without an owner (not listed as a position)', async () => {
      const result = await store.arbitrate([key], A, writing([write(record(null, 'unknown-outcome'))]), null);
      expect(await viewOf(store)).toMatchObject({ record: record(null, 'unknown-outcome'), version: result.versions[0] });
      expect(await store.listPositions()).toEqual([]);
    });

    it('lists owned positions with their doubt, all (by owner, account, product) or per owner', async () => {
      const amy: Strategy = { relayUser: 'amy', relayId: 'X' };
      await store.arbitrate([key], A, writing([write(record(A, 'unknown-outcome'))]), null);
      await store.arbitrate([{ ...key, instrumentKey: 'NQ' }], A, writing([write(record(A))]), null);
      await store.arbitrate([{ ...key, account: 'Apex-1' }], amy, writing([write({ owner: owner(amy, 'short'), doubt: { kind: 'changed', since: 5 } })]), null);
      expect((await store.listPositions()).map((p) => [p.relayUser, p.account, p.instrumentKey, p.direction, p.doubt])).toEqual([
        ['amy', 'Apex-1', 'ES', 'short', 'changed'],
        ['bob', 'Sim101', 'ES', 'long', 'unknown-outcome'],
        ['bob', 'Sim101', 'NQ', 'long', null],
      ]);
      expect(await store.listPositions('amy')).toEqual([
        { ...owner(amy, 'short'), account: 'Apex-1', instrumentKey: 'ES', instrument: 'ES 03-26', doubt: 'changed', updatedAt: T0 },
      ]);
    });

    it('keeps the contracts the owner’s orders add up to: a number, unknown (null), or not said (read back as null)', async () => {
      const keys: PositionKey[] = ['ES', 'NQ', 'RTY'].map((instrumentKey) => ({ ...key, instrumentKey }));
      const { quantity: _unsaid, ...unsaid } = owner(A);
      await store.arbitrate(
        keys,
        A,
        writing([
          write({ owner: owner(A, 'long', 3), doubt: null }),
          write({ owner: owner(A, 'short', null), doubt: null }),
          write({ owner: unsaid, doubt: null }),
        ]),
        null,
      );
      const quantities = [];
      for (const k of keys) quantities.push((await viewOf(store, k)).record.owner?.quantity);
      expect(quantities).toEqual([3, null, null]);
      expect((await store.listPositions('bob')).map((p) => [p.instrumentKey, p.direction, p.quantity])).toEqual([
        ['ES', 'long', 3],
        ['NQ', 'short', null],
        ['RTY', 'long', null],
      ]);
      // A new write replaces it (an add, a partial exit), and an emptied record forgets it.
      await store.arbitrate([keys[0]!], A, writing([write({ owner: owner(A, 'long', 2), doubt: { kind: 'changed', since: T0 } })]), null);
      expect((await viewOf(store, keys[0]!)).record).toEqual({ owner: owner(A, 'long', 2), doubt: { kind: 'changed', since: T0 } });
      await store.arbitrate([keys[0]!], A, writing([write({ owner: null, doubt: { kind: 'closing', since: T0 } })]), null);
      expect((await viewOf(store, keys[0]!)).record).toEqual({ owner: null, doubt: { kind: 'closing', since: T0 } });
    });

    it('keeps a working LIMIT/STOP exit as doubt working-exit, with the position it works on', async () => {
      await store.arbitrate([key], A, writing([write({ owner: owner(A, 'long', 2), doubt: { kind: 'working-exit', since: T0 + 5 } })]), null);
      expect((await viewOf(store, key)).record).toEqual({ owner: owner(A, 'long', 2), doubt: { kind: 'working-exit', since: T0 + 5 } });
      expect((await store.listPositions()).map((p) => [p.relayId, p.quantity, p.doubt])).toEqual([['A', 2, 'working-exit']]);
    });

    it('lists every key an account group has a record of, owned or only in doubt, by account and product', async () => {
      const other = { ...key, accountGroup: 'another-group' };
      await store.arbitrate([{ ...key, instrumentKey: 'NQ' }, key], A, writing([write(record(A)), write(record(null, 'changed'))]), null);
      await store.arbitrate([other], A, writing([write(record(A))]), null);
      await store.arbitrate([{ ...key, account: 'Apex-1' }], A, writing([write(record(A))]), null);
      expect(await store.listKeys(GROUP)).toEqual([{ ...key, account: 'Apex-1' }, key, { ...key, instrumentKey: 'NQ' }]);
      expect(await store.listKeys('no-such-group')).toEqual([]);
    });

    it('clears one position by a user’s key: the key stays in doubt (a new version) and the owner holds nothing there', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const sent = await store.arbitrate([key], A, writing([write(record(A))]), null);
      clock = T0 + 100;
      expect(await store.clearPosition({ relayUser: 'bob', account: 'sim101', instrumentKey: 'ES' })).toBe(true);
      expect(await store.listPositions()).toEqual([]);
      const cleared = await viewOf(store);
      expect(cleared).toEqual({
        record: { owner: null, doubt: { kind: 'changed', since: T0 + 100 } },
        version: expect.any(Number),
        sender: { holdsNothing: true, lastFingerprint: null },
      });
      expect(cleared.version).not.toBe(sent.versions[0]);
      // nobody owns it any more: clearing it again answers false, and puts it in doubt afresh
      clock = T0 + 200;
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(false);
      const again = await viewOf(store);
      expect(again.record).toEqual({ owner: null, doubt: { kind: 'changed', since: T0 + 200 } });
      expect(again.version).not.toBe(cleared.version);
    });

    it('answers false for an unknown user, for a key without a record, and for a key nobody owns (putting it in doubt ‘changed’)', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const sent = await store.arbitrate([key], A, writing([write(record(A))]), null);
      clock = T0 + 100;
      expect(await store.clearPosition({ relayUser: 'nobody', account: 'Sim101', instrumentKey: 'ES' })).toBe(false);
      expect(await store.listPositions()).toHaveLength(1);
      expect(await viewOf(store)).toMatchObject({ record: record(A), version: sent.versions[0] });
      const rty = { ...key, instrumentKey: 'RTY' };
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'RTY' })).toBe(false);
      expect(await viewOf(store, rty)).toMatchObject({ record: { owner: null, doubt: null }, version: null });
      const nq = { ...key, instrumentKey: 'NQ' };
      const unowned = await store.arbitrate([nq], A, writing([write(record(null, 'unknown-outcome'))]), null);
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'NQ' })).toBe(false);
      const view = await viewOf(store, nq);
      expect(view.record).toEqual({ owner: null, doubt: { kind: 'changed', since: T0 + 100 } });
      expect(view.version).not.toBe(unowned.versions[0]);
    });
  });
}
