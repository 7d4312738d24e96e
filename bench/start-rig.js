import path from 'node:path';
import { createSqliteStore } from '../dist/store/sqlite/create-sqlite-store.js';
import { cpuProfileArgs } from './cpu-profile-args.js';
import { USERS, burstFlow, crosstradeKey, ownerFlow, positionKeys, rivalFlow } from './alerts.js';
import { openSignalLog } from './open-signal-log.js';
import { spawnReady } from './spawn-ready.js';
import { startRelayProcess } from './start-relay-process.js';

const here = import.meta.dirname;

/**
 * The relays under test, each in its own process with its own database and log file.
 * A runs production defaults (fill grace 10 s, position cache 1000 ms): the forwarded path and
 * the burst. B and C run fill grace 0 so that a contested entry really asks CrossTrade; C also
 * turns the position cache off, to show what an uncached check costs.
 */
export const RELAY_SPECS = [
  { name: 'A', settings: {}, describe: 'production defaults: fill grace 10 s, position cache 1000 ms' },
  { name: 'B', settings: { RELAY_FILL_GRACE_SECONDS: '0' }, describe: 'fill grace 0 s, position cache 1000 ms (default)' },
  { name: 'C', settings: { RELAY_FILL_GRACE_SECONDS: '0', RELAY_POSITION_CACHE_MS: '0' }, describe: 'fill grace 0 s, position cache off' },
];

/**
 * Set on every relay. All bench load comes from one loopback address, and the default limit of
 * 600 alerts a minute per source would answer most of it 429. At the schema's maximum the limiter
 * still counts every alert; it just never trips.
 */
const COMMON_SETTINGS = { RELAY_RATE_LIMIT_PER_MIN: '1000000' };

/**
 * Starts the simulator, the bare forwarder and the relays (one after another, so start-ups do
 * not compete), each in a process of its own. Every stop function is pushed onto `stoppers`
 * as soon as its process runs, so a failure half-way still cleans up.
 */
export async function startRig({ dir, withUncached, blockedAccounts = 5, cpuProfileDir, stoppers }) {
  const keys = USERS.map(crosstradeKey);
  const sim = await spawnReady(path.join(here, 'sim-process.js'), [JSON.stringify(keys)], cpuProfileArgs(cpuProfileDir, 'simulator'));
  stoppers.push(() => sim.stop());
  const bare = await spawnReady(path.join(here, 'bare-forwarder.js'), [sim.ready.url], cpuProfileArgs(cpuProfileDir, 'bare-forwarder'));
  stoppers.push(() => bare.stop());

  const webhookPaths = Object.fromEntries(USERS.map((user) => [user, new URL(sim.ready.webhooks[crosstradeKey(user)]).pathname]));
  const relays = {};
  for (const spec of RELAY_SPECS.filter((s) => withUncached || s.name !== 'C')) {
    const dbFile = path.join(dir, `relay-${spec.name}.db`);
    seedUsers(dbFile, sim.ready.webhooks);
    const relay = await startRelayProcess({
      name: spec.name,
      dir,
      dbFile,
      crosstradeApiUrl: sim.ready.url,
      settings: { ...COMMON_SETTINGS, ...spec.settings },
      cpuProfileDir,
    });
    stoppers.push(() => relay.stop());
    const log = openSignalLog(dbFile);
    stoppers.push(async () => log.close());
    relays[spec.name] = { ...relay, spec, log };
  }

  const forwardedKeys = positionKeys('Sim', 25);
  const blockedKeys = positionKeys('Live', blockedAccounts);
  // One sequence per target, shared by all connections and carried on from run to run: the
  // owners keep alternating entry and exit, and no text repeats inside the relay's duplicate
  // window. The burst instead gives each connection its own sequence, on fresh keys every run.
  const continued = (flow) => () => () => flow;
  const targets = [
    { id: 'upstream', label: 'upstream alone', origin: sim.ready.url, pid: sim.pid, requests: continued(ownerFlow(forwardedKeys, 'upstream', webhookPaths)) },
    { id: 'bare', label: 'bare forwarder', origin: bare.ready.url, pid: bare.pid, requests: continued(ownerFlow(forwardedKeys, 'upstream', webhookPaths)) },
    { id: 'forwarded', label: 'relay, forwarded path', relay: relays.A, requests: continued(ownerFlow(forwardedKeys, 'relay')) },
    { id: 'blocked', label: 'relay, blocked path', relay: relays.B, requests: continued(rivalFlow(blockedKeys)) },
    { id: 'blocked-uncached', label: 'relay, blocked path, cache off', relay: relays.C, requests: continued(rivalFlow(blockedKeys)) },
    { id: 'burst', label: 'relay, contested burst', relay: relays.A, requests: (label) => burstFlow(label) },
  ]
    .filter((t) => !('relay' in t) || t.relay !== undefined)
    .map((t) => (t.relay ? { ...t, origin: t.relay.url, pid: t.relay.pid, log: t.relay.log } : t));

  return { sim, bare, relays, targets, blockedKeys };
}

/** Creates the database with the bench's users, each with its own key and simulator webhook URL. */
export function seedUsers(dbFile, webhooks) {
  const store = createSqliteStore(dbFile);
  for (const user of USERS) store.saveUser({ relayUser: user, crosstradeKey: crosstradeKey(user), webhookUrl: webhooks[crosstradeKey(user)] });
  store.close();
}
