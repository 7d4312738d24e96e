import path from 'node:path';
import { seedUsers } from './start-rig.js';
import { startRelayProcess } from './start-relay-process.js';

/**
 * Extra start-up samples: starts a relay on a database that already holds the users (as after
 * a restart), waits for its first healthy answer, stops it, `count` times in a row.
 */
export async function measureStartups({ dir, sim, count }) {
  const dbFile = path.join(dir, 'relay-startup.db');
  await seedUsers(dbFile, sim.ready.webhooks);
  const samples = [];
  for (let i = 0; i < count; i++) {
    const relay = await startRelayProcess({ name: `startup-${i}`, dir, dbFile, crosstradeApiUrl: sim.ready.url });
    samples.push({ startupMs: relay.startupMs, listeningMs: relay.listeningMs });
    await relay.stop();
  }
  return samples;
}
