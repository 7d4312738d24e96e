import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountGroupOf } from '../../../src/store/account-group.js';
import type { Store } from '../../../src/store/store.js';
import { T0 } from './fixtures.js';
import type { StoreHarness } from './store-harness.js';

/** Named settings (the admin token, where it came from) and the paper books of paper account groups. */
export function describeSettingsContract(harness: StoreHarness): void {
  describe('settings', () => {
    let store: Store;
    beforeEach(async () => {
      store = await harness.open({ now: () => T0 });
    });
    afterEach(() => harness.cleanup());

    it('stores settings by name, the last value written winning', async () => {
      expect(await store.getSetting('admin_token')).toBeNull();
      await store.setSetting('admin_token', 'one');
      await store.setSetting('admin_token', 'two');
      await store.setSetting('admin_token_source', '{"source":"stored"}');
      expect(await store.getSetting('admin_token')).toBe('two');
      expect(await store.getSetting('admin_token_source')).toBe('{"source":"stored"}');
    });

    it('shows a setting changed through another store on the same database at once', async () => {
      const beside = await harness.reopen({ now: () => T0 });
      await beside.setSetting('admin_token', 'rotated');
      expect(await store.getSetting('admin_token')).toBe('rotated');
    });
  });

  describe('paper books', () => {
    const PAPER = accountGroupOf('key-of-paula-000111', true);
    let store: Store;
    beforeEach(async () => {
      store = await harness.open({ now: () => T0 });
    });
    afterEach(() => harness.cleanup());

    it('keeps one book per paper account group, as stored, replaced by the next save', async () => {
      expect(await store.getPaperBook(PAPER)).toBeNull();
      await store.savePaperBook(PAPER, '{"v":1,"positions":[]}');
      await store.savePaperBook('paper-other', '{"v":1,"positions":[{"account":"Sim101"}]}');
      expect(await store.getPaperBook(PAPER)).toBe('{"v":1,"positions":[]}');
      const book = '{"v":1,"positions":[{"account":"Sim101","instrument":"ES 03-26","marketPosition":"Long","quantity":2}]}';
      await store.savePaperBook(PAPER, book);
      expect(await store.getPaperBook(PAPER)).toBe(book);
      expect(await store.getPaperBook('paper-other')).toBe('{"v":1,"positions":[{"account":"Sim101"}]}');
    });

    it('keeps the books across a restart', async () => {
      await store.savePaperBook(PAPER, '{"v":1,"positions":[]}');
      await store.close();
      const reopened = await harness.reopen();
      expect(await reopened.getPaperBook(PAPER)).toBe('{"v":1,"positions":[]}');
    });
  });
}
