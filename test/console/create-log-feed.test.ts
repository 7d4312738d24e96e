import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogFeed, type LogFeed } from '../../src/console/create-log-feed.js';
import type { SignalLogRecord, Store } from '../../src/store/store.js';
import { A, key, log, writing } from '../store/contract/fixtures.js';
import { sqliteHarness } from '../store/sqlite-harness.js';

describe('createLogFeed', () => {
  const harness = sqliteHarness();
  let store: Store;
  let feed: LogFeed;
  let reads: number;
  beforeEach(async () => {
    store = await harness.open();
    reads = 0;
    const counted = {
      listLogs: (query: Parameters<Store['listLogs']>[0]) => {
        reads++;
        return store.listLogs(query);
      },
    };
    feed = createLogFeed({ store: counted, logger: pino({ level: 'silent' }), intervalMs: 20 });
  });
  afterEach(async () => {
    feed.close();
    await harness.cleanup();
  });

  const collect = async () => {
    const rows: SignalLogRecord[] = [];
    const stop = await feed.subscribe((row) => rows.push(row));
    return { rows, stop };
  };

  it('sends every row written after the subscription, oldest first, to every subscriber', async () => {
    await store.appendLog(log({ relayId: 'before', decision: 'blocked' }));
    const first = await collect();
    const second = await collect();
    for (const relayId of ['one', 'two', 'three']) await store.appendLog(log({ relayId, decision: 'blocked' }));
    await vi.waitFor(() => expect(first.rows).toHaveLength(3));
    await vi.waitFor(() => expect(second.rows).toHaveLength(3));
    expect(first.rows.map((r) => r.relayId)).toEqual(['one', 'two', 'three']);
    expect(second.rows).toEqual(first.rows);
    expect(feed.size()).toBe(2);
  });

  it('sends every row of a burst larger than one look reads, oldest first, over the next looks', async () => {
    const { rows } = await collect();
    // Written in one turn of the event loop: the feed sees them all at its next look.
    await Promise.all(Array.from({ length: 450 }, (_, i) => store.appendLog(log({ relayId: `R${i}`, decision: 'blocked' }))));
    await vi.waitFor(() => expect(rows).toHaveLength(450));
    expect(rows.map((r) => r.relayId)).toEqual(Array.from({ length: 450 }, (_, i) => `R${i}`));
  });

  it('sends a pending row again once its outcome is written', async () => {
    const { rows } = await collect();
    const sent = await store.arbitrate([key], A, writing([null], { log: log({ decision: 'pending' }) }), null);
    await vi.waitFor(() => expect(rows.map((r) => r.decision)).toEqual(['pending']));
    store.settle({ keys: [], log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 4 } } });
    await vi.waitFor(() => expect(rows.map((r) => r.decision)).toEqual(['pending', 'forwarded']));
    expect(rows[1]).toMatchObject({ id: sent.logId, reason: 'ok' });
  });

  it('still sends a pending row’s outcome when more rows than one look reads came after it', async () => {
    const { rows } = await collect();
    const sent = await store.arbitrate([key], A, writing([null], { log: log({ decision: 'pending' }) }), null);
    await Promise.all(Array.from({ length: 250 }, (_, i) => store.appendLog(log({ relayId: `R${i}`, decision: 'blocked' }))));
    await vi.waitFor(() => expect(rows).toHaveLength(251));
    store.settle({ keys: [], log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 4 } } });
    await vi.waitFor(() => expect(rows).toHaveLength(252));
    expect(rows[251]).toMatchObject({ id: sent.logId, decision: 'forwarded' });
  });

  it('reads the store only while someone listens, and stops at the last unsubscribe or at close', async () => {
    const { rows, stop } = await collect();
    await store.appendLog(log({ decision: 'blocked' }));
    await vi.waitFor(() => expect(rows).toHaveLength(1));
    stop();
    expect(feed.size()).toBe(0);
    const after = reads;
    await store.appendLog(log({ decision: 'blocked' }));
    // Nobody listens: no look is scheduled (a later subscriber starts from the newest row).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reads).toBe(after);
    expect(rows).toHaveLength(1);
    const again = await collect();
    feed.close();
    expect(feed.size()).toBe(0);
    await store.appendLog(log({ decision: 'blocked' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(again.rows).toEqual([]);
  });

  it('refuses a subscription it cannot start, and adds no listener', async () => {
    const failing = createLogFeed({ store: { listLogs: () => Promise.reject(new Error('database unavailable: test')) }, logger: pino({ level: 'silent' }) });
    await expect(failing.subscribe(() => {})).rejects.toThrow('database unavailable: test');
    expect(failing.size()).toBe(0);
  });
});
