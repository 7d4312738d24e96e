import { afterEach, describe, expect, it } from 'vitest';
import { isStoreUnavailableError, StoreUnavailableError } from '../../../src/store/store.js';
import { A, key, record, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** Opening, reopening, several stores on one database, sync, ping and close. */
export function describeLifecycleContract(harness: StoreHarness): void {
  describe('lifecycle', () => {
    afterEach(() => harness.cleanup());

    it('says which implementation it is', async () => {
      const store = await harness.open();
      expect(store.kind).toBe(harness.name);
    });

    it('opens an empty database', async () => {
      const store = await harness.open();
      expect(await store.listUsers()).toEqual([]);
      expect(await store.listPositions()).toEqual([]);
      expect(await store.listLogs({ limit: 10 })).toEqual([]);
      expect(await store.getSetting('admin_token')).toBeNull();
    });

    it('reopens an existing database with what was written', async () => {
      const store = await harness.open({ now: () => T0 });
      await store.saveUser({ relayUser: 'bob', crosstradeKey: 'k'.repeat(10), webhookUrl: 'https://x.test/v1/send/a/b' });
      await store.arbitrate([key], A, writing([write(record(A))]), null);
      await store.close();
      const reopened = await harness.reopen({ now: () => T0 });
      expect((await reopened.getUser('bob'))?.crosstradeKey).toBe('k'.repeat(10));
      expect((await viewOf(reopened)).record).toEqual(record(A));
    });

    it('sees a write made through a second store at once', async () => {
      const store = await harness.open({ now: () => T0 });
      const other = await harness.reopen({ now: () => T0 });
      await other.saveUser({ relayUser: 'amy', crosstradeKey: 'key-amy-1', webhookUrl: 'https://x.test/1' });
      await other.arbitrate([key], A, writing([write(record(A))]), null);
      await other.close();
      expect((await store.getUser('amy'))?.relayUser).toBe('amy');
      expect((await viewOf(store)).record).toEqual(record(A));
    });

    it('resolves sync() once the decisions made before it are durable, also when many wait at once', async () => {
      const store = await harness.open({ now: () => T0 });
      await store.arbitrate([key], A, writing([write(record(A))]), null);
      const waiting = Array.from({ length: 5 }, () => store.sync());
      await expect(Promise.all(waiting)).resolves.toEqual([undefined, undefined, undefined, undefined, undefined]);
    });

    it('answers ping() true while open and false once closed, never throwing', async () => {
      const store = await harness.open();
      expect(await store.ping(1000)).toBe(true);
      await store.close();
      expect(await store.ping(1000)).toBe(false);
    });

    it('closes once: a second close() does nothing, and a closed store refuses work as unavailable', async () => {
      const store = await harness.open();
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
      const error = await store.getUser('bob').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(isStoreUnavailableError(error)).toBe(true);
      expect((error as Error).message).toMatch(/^database unavailable: /);
    });
  });
}
