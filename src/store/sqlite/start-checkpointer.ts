import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread with its own connection: a WAL checkpoint copies pages back into the
// database file and fsyncs it, which on the relay's event loop stalled an alert every ~100 (bench/RESULTS.md).
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try { db = new Database(workerData.file); } catch { process.exit(0); }
db.pragma('busy_timeout = 50');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

/** Starts the background checkpointer for `file`; the returned function stops it (after a last checkpoint). */
export function startCheckpointer(file: string, intervalMs = 500): () => Promise<void> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  let exited = false;
  worker.once('exit', () => (exited = true));
  // A failing checkpointer only costs latency (commits checkpoint themselves): never crash the relay.
  worker.on('error', () => undefined);
  let stopped: Promise<void> | null = null;
  return () =>
    (stopped ??= new Promise<void>((resolve) => {
      if (exited) return resolve();
      worker.once('exit', () => resolve());
      worker.ref(); // keep the process alive until the last checkpoint is done
      worker.postMessage('stop');
    }));
}
