import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPaperCrossTrade } from '../../src/paper/create-paper-crosstrade.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const KEY = 'paper-key-0123456789';
const ORDER = 'key=paper-key-0123456789; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=2; order_type=MARKET; tif=DAY;';

describe('the paper CrossTrade', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  beforeEach(() => {
    temp = makeTempDir();
    store = createSqliteStore(temp.file('relay.db'));
  });
  afterEach(async () => {
    await store.close();
    temp.cleanup();
  });

  it('fills an order in the paper book and reads it back', async () => {
    const paper = createPaperCrossTrade({ store });
    expect(await paper.forward('https://app.crosstrade.io/v1/send/x/y', ORDER)).toEqual({ ok: true, status: 200 });
    expect(await paper.readPosition('sim101', 'ES1!', KEY)).toMatchObject({ kind: 'open', direction: 'long', quantity: 2 });
    expect(await paper.readPosition('Sim101', 'NQ 03-26', KEY)).toMatchObject({ kind: 'flat' });
  });

  it('keeps the paper book across a restart', async () => {
    await createPaperCrossTrade({ store }).forward('', ORDER);
    await store.close();
    store = createSqliteStore(temp.file('relay.db'));
    expect(await createPaperCrossTrade({ store }).readPosition('Sim101', 'ES 03-26', KEY)).toMatchObject({ kind: 'open', direction: 'long', quantity: 2 });
  });

  it('keeps one book per CrossTrade key', async () => {
    const paper = createPaperCrossTrade({ store });
    await paper.forward('', ORDER);
    expect(await paper.readPosition('Sim101', 'ES 03-26', 'another-paper-key-1')).toMatchObject({ kind: 'flat' });
  });

  it('fills a LIMIT order at once: the relay has no prices to rest it against', async () => {
    const paper = createPaperCrossTrade({ store });
    await paper.forward('', ORDER.replace('order_type=MARKET', 'order_type=LIMIT; limit_price=5000'));
    expect(await paper.readPosition('Sim101', 'ES 03-26', KEY)).toMatchObject({ kind: 'open', quantity: 2 });
  });

  it('refuses what CrossTrade would refuse, definitely, and changes nothing', async () => {
    const paper = createPaperCrossTrade({ store });
    expect(await paper.forward('', ORDER.replace('action=BUY', 'action=HOLD'))).toEqual({
      ok: false,
      ambiguous: false,
      reason: 'upstream-http-400',
      status: 400,
    });
    expect(await paper.forward('', ORDER.replace(`key=${KEY};`, ''))).toEqual({ ok: false, ambiguous: false, reason: 'upstream-http-401', status: 401 });
    expect(await paper.readPosition('Sim101', 'ES 03-26', KEY)).toMatchObject({ kind: 'flat' });
  });

  it('closes and flattens in the paper book', async () => {
    const paper = createPaperCrossTrade({ store });
    await paper.forward('', ORDER);
    await paper.forward('', `key=${KEY}; command=CLOSEPOSITION; account=Sim101; instrument=ES 03-26; qty=1;`);
    expect(await paper.readPosition('Sim101', 'ES 03-26', KEY)).toMatchObject({ kind: 'open', quantity: 1 });
    await paper.forward('', `key=${KEY}; command=FLATTEN; account=Sim101; instrument=ES 03-26;`);
    expect(await paper.readPosition('Sim101', 'ES 03-26', KEY)).toMatchObject({ kind: 'flat' });
  });
});
