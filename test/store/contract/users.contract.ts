import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../../src/engine/types.js';
import { accountGroupOf } from '../../../src/store/account-group.js';
import type { Store } from '../../../src/store/store.js';
import { A, B, BOB_KEY, GROUP, key, log, look, mark, owner, record, T0, viewOf, write, writing } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** Users, their account groups, and what a changed key, a switch to paper or a removal does to their positions. */
export function describeUsersContract(harness: StoreHarness): void {
  describe('users and account groups', () => {
    let store: Store;
    let clock: number;
    beforeEach(async () => {
      clock = T0;
      store = await harness.open({ now: () => clock });
    });
    afterEach(() => harness.cleanup());

    it('creates, updates, lists and removes users, each with the account group of its key', async () => {
      expect(await store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-one-1', webhookUrl: 'https://x.test/1' })).toBe('created');
      expect(await store.getUser('bob')).toMatchObject({ relaySecret: null, paper: false, accountGroup: accountGroupOf('key-one-1') });
      expect(await store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-two-2', webhookUrl: 'https://x.test/2', relaySecret: 'sha256:x' })).toBe('updated');
      expect((await store.listUsers()).map((u) => [u.relayUser, u.crosstradeKey, u.webhookUrl, u.relaySecret, u.accountGroup])).toEqual([
        ['bob', 'key-two-2', 'https://x.test/2', 'sha256:x', accountGroupOf('key-two-2')],
      ]);
      expect(await store.removeUser('bob')).toBe(true);
      expect(await store.removeUser('bob')).toBe(false);
      expect(await store.getUser('bob')).toBeNull();
    });

    it('lists users by name and stamps their creation and last change', async () => {
      await store.saveUser({ relayUser: 'carol', crosstradeKey: 'key-of-carol', webhookUrl: 'https://x.test/c' });
      await store.saveUser({ relayUser: 'alice', crosstradeKey: 'key-of-alice', webhookUrl: 'https://x.test/a' });
      clock = T0 + 1000;
      await store.saveUser({ relayUser: 'carol', crosstradeKey: 'key-of-carol', webhookUrl: 'https://x.test/c2' });
      const users = await store.listUsers();
      expect(users.map((u) => u.relayUser)).toEqual(['alice', 'carol']);
      expect(users[1]).toMatchObject({ createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0 + 1000).toISOString() });
    });

    it('gives two users with the same CrossTrade key one account group: they see one key', async () => {
      await store.saveUser({ relayUser: 'alice', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/a' });
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      await store.saveUser({ relayUser: 'carol', crosstradeKey: 'key-of-carol', webhookUrl: 'https://x.test/c' });
      const [alice, bob, carol] = await store.listUsers();
      expect(alice?.accountGroup).toBe(bob?.accountGroup);
      expect(carol?.accountGroup).not.toBe(bob?.accountGroup);

      const aliceKey = { ...key, accountGroup: alice!.accountGroup };
      const aliceTrend: Strategy = { relayUser: 'alice', relayId: 'trend' };
      await store.arbitrate([aliceKey], aliceTrend, writing([write({ owner: owner(aliceTrend), doubt: null })]), null);
      // bob's alert on the same account and product reads alice's record: one key.
      expect((await viewOf(store, { ...key, accountGroup: bob!.accountGroup, account: 'SIM101' }, B)).record.owner).toMatchObject(aliceTrend);
      expect((await viewOf(store, { ...key, accountGroup: carol!.accountGroup }, B)).record).toEqual({ owner: null, doubt: null });
      expect(await store.listPositions('alice')).toHaveLength(1);
      expect(await store.listPositions('bob')).toEqual([]);
      // and bob, naming the key through his CrossTrade account, can release it by hand
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(true);
      expect(await store.listPositions()).toEqual([]);
    });

    it('moves a user’s positions and strategy marks to its new account group when its key changes', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      await store.saveUser({ relayUser: 'alice', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/a' });
      const nq = { ...key, instrumentKey: 'NQ' };
      const aliceTrend: Strategy = { relayUser: 'alice', relayId: 'trend' };
      await store.arbitrate([key], A, writing([write(record(A, 'working-order'), [mark(B, true)])]), null);
      await store.arbitrate([nq], aliceTrend, writing([write({ owner: owner(aliceTrend), doubt: null })]), null);

      expect(await store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-of-bob-NEW', webhookUrl: 'https://x.test/b' })).toBe('updated');
      const moved = { ...key, accountGroup: accountGroupOf('key-of-bob-NEW') };
      expect((await viewOf(store, moved)).record).toEqual(record(A, 'working-order'));
      expect((await viewOf(store, moved, B)).sender.holdsNothing).toBe(true);
      expect((await viewOf(store, key)).record).toEqual({ owner: null, doubt: null });
      expect((await viewOf(store, key, B)).sender.holdsNothing).toBe(false);
      // alice kept the old key: what she owns stays where it was
      expect((await viewOf(store, nq, aliceTrend)).record.owner).toMatchObject(aliceTrend);
      expect((await store.listPositions()).map((p) => [p.relayUser, p.instrumentKey, p.doubt])).toEqual([
        ['alice', 'NQ', null],
        ['bob', 'ES', 'working-order'],
      ]);
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(true);
    });

    it('moving into a group where the key has a record keeps that record, in doubt; an order in flight becomes of unknown outcome', async () => {
      const NEW_KEY = 'key-of-bob-NEW';
      const target = accountGroupOf(NEW_KEY);
      const nq = { ...key, instrumentKey: 'NQ' };
      const carol: Strategy = { relayUser: 'carol', relayId: 'C' };
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      await store.saveUser({ relayUser: 'carol', crosstradeKey: NEW_KEY, webhookUrl: 'https://x.test/c' });
      await store.arbitrate([key, nq], A, writing([write(record(A)), write(record(A, 'in-flight'))]), null);
      await store.arbitrate([{ ...key, accountGroup: target }], carol, writing([write({ owner: owner(carol), doubt: null })]), null);
      clock = T0 + 100;
      await store.saveUser({ relayUser: 'bob', crosstradeKey: NEW_KEY, webhookUrl: 'https://x.test/b' });
      const [es, movedNq] = (
        await look(store, [
          { ...key, accountGroup: target },
          { ...nq, accountGroup: target },
        ])
      ).views;
      expect(es).toMatchObject({ record: { owner: owner(carol), doubt: { kind: 'changed', since: T0 + 100 } }, sender: { holdsNothing: true } });
      expect(movedNq?.record).toEqual({ owner: owner(A), doubt: { kind: 'unknown-outcome', since: T0 + 100 } });
      expect(await store.listKeys(GROUP)).toEqual([]);
    });

    it('releases a user’s positions into doubt (its log stays) and its strategies hold nothing there', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const nq = { ...key, instrumentKey: 'NQ' };
      const sent = await store.arbitrate(
        [key, nq],
        A,
        writing([write(record(A)), write(record(A, 'in-flight'))], { log: log({ decision: 'forwarded' }) }),
        null,
      );
      clock = T0 + 100;
      expect(await store.removeUser('bob')).toBe(true);
      expect(await store.listPositions()).toEqual([]);
      const released = { owner: null, doubt: { kind: 'changed', since: T0 + 100 } };
      const { views } = await look(store, [key, nq]);
      expect(views).toEqual([
        { record: released, version: expect.any(Number), sender: { holdsNothing: true, lastFingerprint: null } },
        { record: released, version: expect.any(Number), sender: { holdsNothing: true, lastFingerprint: null } },
      ]);
      expect(views.map((v) => v.version)).not.toContain(sent.versions[0]);
      expect(views.map((v) => v.version)).not.toContain(sent.versions[1]);
      expect(await store.listLogs({ limit: 5 })).toHaveLength(1);
    });
  });

  describe('paper users', () => {
    const KEY = 'key-of-paula-000111';
    let store: Store;
    beforeEach(async () => {
      store = await harness.open({ now: () => T0 });
    });
    afterEach(() => harness.cleanup());

    it('puts a paper user in a paper account group of its own, apart from a live user of the same key', async () => {
      await store.saveUser({ relayUser: 'paula', crosstradeKey: KEY, webhookUrl: 'https://x.test/1', paper: true });
      await store.saveUser({ relayUser: 'bob', crosstradeKey: KEY, webhookUrl: 'https://x.test/1' });
      expect(await store.getUser('paula')).toMatchObject({ paper: true, accountGroup: `paper-${accountGroupOf(KEY)}` });
      expect(await store.getUser('bob')).toMatchObject({ paper: false, accountGroup: accountGroupOf(KEY) });
    });

    it('releases, never moves, what a user owned when it switches between paper and live', async () => {
      await store.saveUser({ relayUser: 'paula', crosstradeKey: KEY, webhookUrl: 'https://x.test/1', paper: true });
      const paperKey = { accountGroup: accountGroupOf(KEY, true), account: 'Sim101', instrumentKey: 'ES' };
      const paula: Strategy = { relayUser: 'paula', relayId: 'A' };
      await store.arbitrate([paperKey], paula, writing([write({ owner: owner(paula), doubt: null })]), null);
      expect(await store.listPositions('paula')).toHaveLength(1);
      await store.saveUser({ relayUser: 'paula', crosstradeKey: KEY, webhookUrl: 'https://x.test/1', paper: false });
      expect(await store.getUser('paula')).toMatchObject({ paper: false, accountGroup: accountGroupOf(KEY) });
      expect(await store.listPositions('paula')).toEqual([]);
      expect(await store.listKeys(accountGroupOf(KEY))).toEqual([]);
      expect((await viewOf(store, paperKey, paula)).record).toEqual({ owner: null, doubt: { kind: 'changed', since: T0 } });
    });
  });
}
