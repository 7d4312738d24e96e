import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PositionKey, Store } from '../../../src/store/store.js';
import { A, B, identity, key, look, mark, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** Recognising copies of an alert: fingerprints inside their window, and each sender's last fingerprint and "holds nothing" on a key. */
export function describeFingerprintsContract(harness: StoreHarness): void {
  describe('fingerprints and the sender’s memory', () => {
    let store: Store;
    let clock: number;
    beforeEach(async () => {
      clock = T0;
      store = await harness.open({ now: () => clock });
    });
    afterEach(() => harness.cleanup());

    it('reads the sender’s holdsNothing and last fingerprint whether or not an identity is given', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      await store.arbitrate([key, other], A, writing([write(null, [mark(A, true)]), null], { seen: true }), identity('fp-1'));
      for (const id of [null, identity('fp-2')]) {
        expect((await look(store, [key, other], A, id)).views.map((v) => v.sender)).toEqual([
          { holdsNothing: true, lastFingerprint: 'fp-1' },
          { holdsNothing: false, lastFingerprint: 'fp-1' },
        ]);
      }
      // setting the last fingerprint leaves holds-nothing as it was, and a mark leaves the fingerprint
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('fp-3'));
      await store.arbitrate([other], A, writing([write(null, [mark(A, true)])]), null);
      expect((await look(store, [key, other], A)).views.map((v) => v.sender)).toEqual([
        { holdsNothing: true, lastFingerprint: 'fp-3' },
        { holdsNothing: true, lastFingerprint: 'fp-1' },
      ]);
      expect((await viewOf(store, key, B)).sender).toEqual({ holdsNothing: false, lastFingerprint: null });
    });

    it('finds an earlier copy of a fingerprint seen inside its window, and only one that was seen', async () => {
      const earliers: unknown[] = [];
      const run = (seen: boolean, id = identity('same', 30_000)) =>
        store.arbitrate(
          [key],
          A,
          (_views, earlier) => {
            earliers.push(earlier);
            return { value: null, writes: [null], seen, log: null };
          },
          id,
        );
      await run(false); // not seen: not remembered
      await run(true);
      clock = T0 + 30_000;
      await run(false); // exactly at the window's edge: still inside
      clock = T0 + 30_001;
      await run(false);
      await run(false, identity('same', 60_000)); // a wider window reaches it
      expect(earliers).toEqual([null, null, { at: T0, refused: false }, null, { at: T0, refused: false }]);
      expect((await look(store, [key], A, identity('other'))).earlier).toBeNull();
    });

    it('records a seen copy’s time afresh: the window runs from the latest seen copy', async () => {
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      clock = T0 + 20_000;
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      clock = T0 + 40_000;
      expect((await look(store, [key], A, identity('fp'))).earlier).toEqual({ at: T0 + 20_000, refused: false });
    });

    it('ignores `seen` without an identity', async () => {
      await store.arbitrate([key], A, writing([null], { seen: true }), null);
      expect((await viewOf(store)).sender.lastFingerprint).toBeNull();
    });

    it('finds a copy of an alert without keys (a passthrough) by its fingerprint alone', async () => {
      await store.arbitrate([], A, () => ({ value: null, writes: [], seen: true, log: null }), identity('pass'));
      clock = T0 + 1000;
      const found = await store.arbitrate([], A, (_views, earlier) => ({ value: earlier, writes: [], seen: false, log: null }), identity('pass'));
      expect(found.value).toEqual({ at: T0, refused: false });
    });

    it('shares what one store saw with another on the same database at once', async () => {
      const beside = await harness.reopen({ now: () => clock });
      await beside.arbitrate([key], A, writing([write(null, [mark(B, true)])], { seen: true }), identity('fp-x'));
      const { views, earlier } = await look(store, [key], B, identity('fp-x', 30_000, B));
      expect(views[0]?.sender.holdsNothing).toBe(true);
      expect(earlier).toEqual({ at: T0, refused: false });
    });
  });
}
