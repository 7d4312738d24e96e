import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { burstFlow, crosstradeKey, heldAtStart, ownerEntries, ownerFlow, positionKeys, rivalFlow, USERS } from './alerts.js';
import { cpuProfileArgs } from './cpu-profile-args.js';
import { openPostgresSignalLog } from './open-postgres-signal-log.js';
import { createBenchDatabase, createPostgresCpuReader, probePostgres } from './postgres-server.js';
import { spawnReady } from './spawn-ready.js';
import { RELAY_CLI, startRelayProcess } from './start-relay-process.js';

/**
 * The relay on PostgreSQL (issue 10): two clusters of `max(plan.pgInstances)` instances, each
 * cluster on a database of its own that the bench creates and drops, with the settings of the
 * SQLite relays they are compared with: `forwarded` as relay A (production defaults: the forwarded
 * path and the contested burst), `contested` as relay B (the contested entry that asks CrossTrade).
 * One balancer process (round-robin.js) listens once per cluster and instance count: "×2" is
 * instances 1 and 2 of the cluster, the others idle. "×1 direct" is instance 1 without the
 * balancer: what the PostgreSQL store costs against SQLite, without the extra hop.
 *
 * Answers `{ran: false, reason}` when PostgreSQL does not answer (or the build has no PostgreSQL
 * store): the rest of the bench runs without it. Every process and database is pushed onto
 * `stoppers` as soon as it exists.
 */
export async function startPostgresRig({ dir, sim, webhookPaths, plan, common, contested, cpuProfileDir, stoppers, progress }) {
  const server = await probePostgres();
  if (!server.ok) return { ran: false, reason: `no answer from ${server.reason}` };
  const dist = path.resolve(path.dirname(RELAY_CLI), '..');
  if (!fs.existsSync(path.join(dist, 'store/postgres/create-postgres-store.js'))) return { ran: false, reason: `the build at ${dist} has no PostgreSQL store` };

  const size = Math.max(...plan.pgInstances);
  const clusters = {};
  for (const [use, settings, describe] of [
    ['forwarded', {}, 'production defaults, as relay A'],
    ['contested', contested, 'the settings of relay B'],
  ]) {
    progress(`PostgreSQL: a database and ${size} instances (${describe})`);
    const db = await createBenchDatabase(use);
    stoppers.push(() => db.drop());
    await seedUsers(dist, db.url, sim.ready.webhooks);
    const log = await openPostgresSignalLog(db.url);
    stoppers.push(() => log.close());
    const start = (i) =>
      startRelayProcess({
        name: `pg-${use}-${i}`,
        dir,
        dbFile: path.join(dir, `unused-${use}-${i}.db`),
        databaseUrl: db.url,
        crosstradeApiUrl: sim.ready.url,
        settings: { ...common, ...settings },
        // One instance is profiled (`--profile`): the others do the same work.
        cpuProfileDir: i === 1 ? cpuProfileDir : null,
      }).then((relay) => {
        stoppers.push(() => relay.stop());
        return relay;
      });
    // The first migrates alone (as a first start would); the others start together.
    const first = await start(1);
    const others = await Promise.allSettled(Array.from({ length: size - 1 }, (_, i) => start(i + 2)));
    const failed = others.find((o) => o.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    clusters[use] = { use, db, log, settings, describe, instances: [first, ...others.map((o) => o.value)] };
  }

  const sets = Object.values(clusters).flatMap((c) => plan.pgInstances.map((n) => c.instances.slice(0, n).map((r) => r.url)));
  const balancer = await spawnReady(path.join(import.meta.dirname, 'round-robin.js'), [JSON.stringify(sets)], cpuProfileArgs(cpuProfileDir, 'balancer'));
  stoppers.push(() => balancer.stop());
  const balanced = {};
  Object.values(clusters).forEach((c, k) => {
    balanced[c.use] = Object.fromEntries(plan.pgInstances.map((n, j) => [n, balancer.ready.urls[k * plan.pgInstances.length + j]]));
  });
  const postgresCpu = await createPostgresCpuReader(Object.values(clusters).map((c) => c.db.name));
  stoppers.push(() => postgresCpu.close());

  const target = (cluster, n, viaBalancer, fields) => {
    const relays = cluster.instances.slice(0, n);
    return {
      origin: viaBalancer ? balanced[cluster.use][n] : relays[0].url,
      pid: relays[0].pid,
      rssPids: relays.map((r) => r.pid),
      cpu: {
        parts: [{ name: n === 1 ? 'relay' : 'relays', pids: relays.map((r) => r.pid) }, ...(viaBalancer ? [{ name: 'balancer', pids: [balancer.pid] }] : [])],
        postgres: postgresCpu,
      },
      log: cluster.log,
      // Priming is set-up, not a measurement, and every owner should enter: 50 entries at once on
      // PostgreSQL run past the forward's deadline often enough (database-sync-too-slow, 503).
      primeConnections: 10,
      postgres: { instances: n, viaBalancer },
      ...fields,
    };
  };
  // One flow per cluster, carried on from target to target: they share the database, so the
  // owners keep alternating entry and exit whichever instance count a run goes through. Primed
  // once (by the first target): on the forwarded path the owners of the second lane enter, on the
  // blocked path every key gets its owner, then its position is opened in the simulator.
  const forwardedKeys = positionKeys('PgF', plan.pgAccounts);
  const forwardedFlow = ownerFlow(forwardedKeys, 'relay', webhookPaths);
  const blockedKeys = positionKeys('PgL', plan.blockedAccounts);
  const blockedFlow = rivalFlow(blockedKeys);
  const { forwarded, contested: blocked } = clusters;
  const targets = [
    target(forwarded, 1, false, {
      id: 'pg-direct',
      label: 'PG ×1 direct, forwarded path',
      requests: () => () => forwardedFlow,
      prime: ownerEntries(heldAtStart(forwardedKeys)),
    }),
    ...plan.pgInstances.map((n) =>
      target(forwarded, n, true, { id: `pg-forwarded-${n}`, label: `PG ×${n} balanced, forwarded path`, requests: () => () => forwardedFlow }),
    ),
    ...plan.pgInstances.map((n, i) =>
      target(blocked, n, true, {
        id: `pg-blocked-${n}`,
        label: `PG ×${n} balanced, blocked path`,
        requests: () => () => blockedFlow,
        ...(i === 0 ? { prime: ownerEntries(blockedKeys), openAtStart: blockedKeys } : {}),
      }),
    ),
    target(forwarded, size, true, {
      id: `pg-burst-${size}`,
      label: `PG ×${size} balanced, contested burst`,
      burst: true,
      requests: (label) => burstFlow(`P${label}`),
    }),
  ];
  // Before anything is primed or measured, every instance runs a while on keys of its own (measure.js).
  const warmers = Object.values(clusters).map((c) => {
    const flow = ownerFlow(positionKeys(`PgW${c.use}`, 1), 'relay', webhookPaths);
    return { origin: balanced[c.use][size], requestsFor: () => flow };
  });
  return {
    ran: true,
    server,
    clusters: Object.values(clusters),
    balancer,
    targets,
    warmers,
    cpuVisible: postgresCpu.visible,
  };
}

/** Migrates the new database and adds the bench's users, with the store of the build under test. */
async function seedUsers(dist, databaseUrl, webhooks) {
  const { openStore } = await import(pathToFileURL(path.join(dist, 'store/open-store.js')).href);
  const store = await openStore({ dbPath: '', databaseUrl });
  try {
    for (const user of USERS) await store.saveUser({ relayUser: user, crosstradeKey: crosstradeKey(user), webhookUrl: webhooks[crosstradeKey(user)] });
  } finally {
    await store.close();
  }
}
