import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuProfileArgs } from './cpu-profile-args.js';
import { USERS, burstFlow, crosstradeKey, heldAtStart, ownerEntries, ownerFlow, positionKeys, rivalFlow } from './alerts.js';
import { openSignalLog } from './open-signal-log.js';
import { spawnReady } from './spawn-ready.js';
import { startPostgresRig } from './start-postgres-rig.js';
import { RELAY_CLI, startRelayProcess } from './start-relay-process.js';

const here = import.meta.dirname;

/**
 * The blocked path's fill grace (B and C): the smallest the relay accepts with the default forward
 * timeout of 1500 ms (config.ts fillGraceNeededSeconds: ceil((1500 + 1000) / 1000) = 3). A contested
 * entry asks CrossTrade only once the owner's hold has ended, so measure.js primes the owners and
 * then waits this long (plus a margin) before any rival entry is sent.
 */
export const CONTESTED_FILL_GRACE_S = 3;
const CONTESTED_SETTINGS = { RELAY_FILL_GRACE_SECONDS: String(CONTESTED_FILL_GRACE_S), RELAY_FORWARD_TIMEOUT_MS: '1500' };

/**
 * The relays under test, each in its own process with its own database and log file.
 * A runs production defaults (fill grace 10 s, position cache 1000 ms): the forwarded path and
 * the burst. B and C run a short fill grace (3 s, see above) with owners whose hold has ended, so
 * that a contested entry really asks CrossTrade; C also turns the position cache off, to show
 * what an uncached check costs. P (only with a baseline build, `--baseline`) is another build of
 * the relay with its own defaults, on the forwarded path beside A.
 */
export const RELAY_SPECS = [
  { name: 'A', settings: {}, describe: 'production defaults: fill grace 10 s, position cache 1000 ms' },
  { name: 'B', settings: CONTESTED_SETTINGS, describe: `fill grace ${CONTESTED_FILL_GRACE_S} s, owners' holds ended, position cache 1000 ms (default)` },
  {
    name: 'C',
    settings: { ...CONTESTED_SETTINGS, RELAY_POSITION_CACHE_MS: '0' },
    describe: `fill grace ${CONTESTED_FILL_GRACE_S} s, owners' holds ended, position cache off`,
  },
  {
    name: 'N',
    settings: { RELAY_DURABILITY: 'crash' },
    describe: 'RELAY_DURABILITY=crash: SQLite synchronous=NORMAL, no fsync (survives a crash of the relay, not a power cut)',
  },
  { name: 'P', settings: {}, baseline: true, describe: 'baseline build, its own defaults' },
];

/**
 * Set on every relay. All bench load comes from one loopback address, and the default limit of
 * 600 alerts a minute per source would answer most of it 429. At the schema's maximum the limiter
 * still counts every alert; it just never trips.
 */
// The limits are counted (their cost is measured) but never reached: the bench's 20 users read far
// more than CrossTrade's 3 calls a second each, which the simulator does not enforce.
const COMMON_SETTINGS = { RELAY_RATE_LIMIT_PER_MIN: '1000000', RELAY_API_CALLS_PER_MIN: '1000000' };

/**
 * Starts the simulator, the bare forwarder and the relays (one after another, so start-ups do
 * not compete), each in a process of its own, then the relays on PostgreSQL when it answers
 * (start-postgres-rig.js; `postgres` says whether they ran). Every stop function is pushed onto
 * `stoppers` as soon as its process (or database) exists, so a failure half-way still cleans up.
 */
export async function startRig({
  dir,
  withUncached,
  blockedAccounts = 5,
  cpuProfileDir,
  stoppers,
  baselineCli = null,
  plan = null,
  progress = () => undefined,
}) {
  const keys = USERS.map(crosstradeKey);
  const sim = await spawnReady(path.join(here, 'sim-process.js'), [JSON.stringify(keys)], cpuProfileArgs(cpuProfileDir, 'simulator'));
  stoppers.push(() => sim.stop());
  const bare = await spawnReady(path.join(here, 'bare-forwarder.js'), [sim.ready.url], cpuProfileArgs(cpuProfileDir, 'bare-forwarder'));
  stoppers.push(() => bare.stop());
  const durableBare = await spawnReady(
    path.join(here, 'bare-forwarder.js'),
    [sim.ready.url, path.join(dir, 'durable-bare.db')],
    cpuProfileArgs(cpuProfileDir, 'durable-bare-forwarder'),
  );
  stoppers.push(() => durableBare.stop());

  const webhookPaths = Object.fromEntries(USERS.map((user) => [user, new URL(sim.ready.webhooks[crosstradeKey(user)]).pathname]));
  const relays = {};
  for (const spec of RELAY_SPECS.filter((s) => (withUncached || s.name !== 'C') && (baselineCli !== null || !s.baseline))) {
    const dbFile = path.join(dir, `relay-${spec.name}.db`);
    const cli = spec.baseline ? baselineCli : RELAY_CLI;
    // Each build creates its own database: the schema changes between builds (v6 with issue 7).
    await seedUsers(dbFile, sim.ready.webhooks, cli);
    const relay = await startRelayProcess({
      name: spec.name,
      dir,
      dbFile,
      crosstradeApiUrl: sim.ready.url,
      settings: { ...COMMON_SETTINGS, ...spec.settings },
      cpuProfileDir,
      cli,
    });
    stoppers.push(() => relay.stop());
    const log = openSignalLog(dbFile);
    stoppers.push(async () => log.close());
    relays[spec.name] = { ...relay, spec, log };
  }

  // Each forwarding target trades accounts of its own: since issue 7 the relay reads the account
  // to confirm an owner's exit, so another target's orders on the same account would change what it
  // reads. `prime` is sent once before any load (measure.js): the owners of ownerFlow's second lane
  // enter (relays only), and on the blocked path every key gets its owner.
  const blockedKeys = positionKeys('Live', blockedAccounts);
  const forwarding = (prefix, target) => {
    const keys = positionKeys(prefix, 25);
    const requests = continued(ownerFlow(keys, target, webhookPaths));
    // The simulator takes an exit on a flat account as well: only the relays need their owners first.
    return target === 'relay' ? { requests, prime: ownerEntries(heldAtStart(keys)) } : { requests };
  };
  // One sequence per target, shared by all connections and carried on from run to run: the
  // owners keep alternating entry and exit, and no text repeats inside the relay's duplicate
  // window. The burst instead gives each connection its own sequence, on fresh keys every run.
  const continued = (flow) => () => () => flow;
  const targets = [
    { id: 'upstream', label: 'upstream alone', origin: sim.ready.url, pid: sim.pid, ...forwarding('SimU', 'upstream') },
    { id: 'bare', label: 'bare forwarder', origin: bare.ready.url, pid: bare.pid, ...forwarding('SimF', 'upstream') },
    { id: 'durable-bare', label: 'durable bare forwarder', origin: durableBare.ready.url, pid: durableBare.pid, ...forwarding('SimD', 'upstream') },
    { id: 'forwarded', label: 'relay, forwarded path', relay: relays.A, ...forwarding('SimA', 'relay') },
    { id: 'forwarded-normal', label: 'relay, forwarded, durability crash', relay: relays.N, ...forwarding('SimN', 'relay') },
    { id: 'forwarded-baseline', label: 'baseline build, forwarded path', relay: relays.P, ...forwarding('SimP', 'relay') },
    { id: 'blocked', label: 'relay, blocked path', relay: relays.B, requests: continued(rivalFlow(blockedKeys)), prime: ownerEntries(blockedKeys) },
    {
      id: 'blocked-uncached',
      label: 'relay, blocked path, cache off',
      relay: relays.C,
      requests: continued(rivalFlow(blockedKeys)),
      prime: ownerEntries(blockedKeys),
    },
    { id: 'burst', label: 'relay, contested burst', relay: relays.A, burst: true, requests: (label) => burstFlow(label) },
  ]
    .filter((t) => !('relay' in t) || t.relay !== undefined)
    .map((t) => (t.relay ? { ...t, origin: t.relay.url, pid: t.relay.pid, log: t.relay.log } : t));

  const postgres =
    plan === null || plan.pgInstances.length === 0
      ? { ran: false, reason: 'not asked for' }
      : await startPostgresRig({ dir, sim, webhookPaths, plan, common: COMMON_SETTINGS, contested: CONTESTED_SETTINGS, cpuProfileDir, stoppers, progress });
  if (postgres.ran) targets.push(...postgres.targets);

  return { sim, bare, durableBare, relays, targets, blockedKeys, postgres };
}

/**
 * Creates the database with the bench's users, each with its own key and simulator webhook URL,
 * with the store of the build that will run on it (`cli` is that build's dist/cli/main.js).
 */
export async function seedUsers(dbFile, webhooks, cli = RELAY_CLI) {
  const storeModule = path.resolve(path.dirname(cli), '../store/sqlite/create-sqlite-store.js');
  const { createSqliteStore } = await import(pathToFileURL(storeModule).href);
  const store = createSqliteStore(dbFile);
  // Awaited: the store is asynchronous since issue 10 (an older build's answers are awaited as they are).
  for (const user of USERS) await store.saveUser({ relayUser: user, crosstradeKey: crosstradeKey(user), webhookUrl: webhooks[crosstradeKey(user)] });
  await store.close();
}
