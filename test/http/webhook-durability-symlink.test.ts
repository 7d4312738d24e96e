import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Issue 9, adversarial: with RELAY_DURABILITY=power-cut the relay fsyncs the write-ahead log before
// each order. SQLite resolves a symbolic link to the database and keeps its `-wal` beside the real
// file, so the log to sync is not `<the configured path>-wal` when that path is a link (a database
// moved to another disk and linked back).
describe('a database reached through a symbolic link', () => {
  let rig: TestRig;
  let temp: ReturnType<typeof makeTempDir>;
  afterEach(async () => {
    await rig.close();
    temp.cleanup();
  });

  it('forwards and records as usual, and answers no 5xx after a decision: the book follows the alerts', async () => {
    temp = makeTempDir();
    const real = temp.file('elsewhere.db');
    await createSqliteStore(real).close();
    const link = path.join(path.dirname(real), 'trade_relay.db');
    fs.symlinkSync(real, link);
    rig = await startTestRig({ dbPath: link });
    const entered = await rig.post(entry('A'));
    expect(entered.status).toBe(200);
    expect(entered.body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    const closed = await rig.post(exit('A'));
    expect(closed.status).toBe(200);
    expect(closed.body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
  });
});
