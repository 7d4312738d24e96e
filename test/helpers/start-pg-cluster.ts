import { type Config, loadConfig } from '../../src/config/config.js';
import { startSimulator, type Simulator } from '../../src/simulator/create-simulator.js';
import { createPostgresStore } from '../../src/store/postgres/create-postgres-store.js';
import { type RunningRelay, startRelay } from '../../src/start-relay.js';
import { createTestDatabase, connectTo, type TestDatabase } from './postgres.js';
import { spawnRelay, type SpawnedRelay } from './spawn-relay.js';
import { ADMIN_TOKEN, type AlertAnswer, USER_KEY } from './start-test-relay.js';
import { makeTempDir } from './temp-dir.js';

/** Where an instance answers: one started in this process, or a process of its own. */
export interface Instance {
  url: string;
}

export interface Cluster {
  db: TestDatabase;
  sim: Simulator;
  /** The instances, in the order started. */
  instances: Instance[];
  /** Those started in this process (empty for a spawned cluster). */
  relays: RunningRelay[];
  /** Those started as processes of their own (empty for an in-process cluster). */
  spawned: SpawnedRelay[];
  /** The shared clock of in-process instances and the simulator: real time plus what `advance` added. */
  now(): number;
  advance(ms: number): void;
  /** The simulator's net position on the account, as `['Long 1']`; [] when flat. */
  book(account?: string): string[];
  /** POSTs an alert to instance `i`'s /webhook. */
  post(i: number, body: string): Promise<{ status: number; body: AlertAnswer; ms: number }>;
  /** Calls a management route of instance `i` (with the admin token unless another Authorization is given, or null for none). */
  // biome-ignore lint/suspicious/noExplicitAny: route answers are asserted field by field in tests
  admin(i: number, method: string, path: string, body?: unknown, authorization?: string | null): Promise<{ status: number; body: any }>;
  /** Rows read straight from the database. */
  query<T>(sql: string, values?: unknown[]): Promise<T[]>;
  /**
   * Waits (up to 5 s) until every forward's outcome is written: no signal-log row `pending`, no key
   * in flight. Instances write outcomes a few ms after the answer, several to a transaction, so
   * another instance can see an order still in flight just after it was answered.
   */
  outcomesWritten(): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** How many instances. */
  size: number;
  /** Settings of in-process instances beside the rig's (see start-test-relay.ts). */
  overrides?: Partial<Config>;
  /** Run each instance as a process of its own (`node dist/cli/main.js start`), with these environment variables added. */
  spawn?: Record<string, string>;
  /** Add user bob (USER_KEY, the simulator's webhook). Default true. */
  addUser?: boolean;
  /** Keys the simulator takes besides USER_KEY (every key trades on its one book). */
  simKeys?: string[];
}

/**
 * Several relay instances on one PostgreSQL database of their own, in front of one CrossTrade
 * simulator: issue 10's "several instances, one database". The instances are started in this
 * process (sharing a clock tests can move) or, with `spawn`, as processes of their own (which a
 * test can kill). Close it in afterEach: it stops them and drops the database.
 */
export async function startPgCluster(options: ClusterOptions): Promise<Cluster> {
  const db = await createTestDatabase();
  if (db === null) throw new Error('PostgreSQL does not answer');
  const temp = makeTempDir('trade-relay-cluster-');
  let offset = 0;
  const now = () => Date.now() + offset;
  const sim = await startSimulator({ keys: [USER_KEY, ...(options.simKeys ?? [])], now });
  const relays: RunningRelay[] = [];
  const spawned: SpawnedRelay[] = [];
  try {
    if (options.spawn === undefined) {
      for (let i = 0; i < options.size; i++) {
        const config: Config = {
          ...loadConfig({}),
          port: 0,
          host: '127.0.0.1',
          databaseUrl: db.url,
          dbPath: temp.file(`unused-${i}.db`),
          logFile: temp.file(`relay-${i}.log`),
          crosstradeApiUrl: sim.url,
          adminToken: ADMIN_TOKEN,
          rateLimitPerMin: 0,
          apiTimeoutMs: 400,
          forwardTimeoutMs: 600,
          ...options.overrides,
        };
        relays.push(await startRelay(config, { now }));
      }
    } else {
      const env = (i: number) => ({
        RELAY_HOME: temp.dir,
        RELAY_LOG_FILE: temp.file(`relay-${i}.log`),
        RELAY_DATABASE_URL: db.url,
        CROSSTRADE_API_URL: sim.url,
        RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
        RELAY_RATE_LIMIT_PER_MIN: '0',
        ...options.spawn,
      });
      // One at a time: the first migrates, the others find it done.
      for (let i = 0; i < options.size; i++) spawned.push(await spawnRelay(env(i)));
    }
    if (options.addUser !== false) {
      const store = await createPostgresStore(db.url);
      try {
        await store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: sim.webhookUrl(USER_KEY) });
      } finally {
        await store.close();
      }
    }
  } catch (error) {
    await Promise.all([...relays.map((r) => r.close()), ...spawned.map((s) => s.stop('SIGKILL'))]);
    await sim.close();
    await db.drop();
    temp.cleanup();
    throw error;
  }
  const instances: Instance[] = [...relays.map((r) => ({ url: r.url })), ...spawned.map((s) => ({ url: s.url }))];
  const queryDb = async <T>(sql: string, values: unknown[] = []): Promise<T[]> => {
    const client = await connectTo(db.url);
    try {
      return (await client.query(sql, values)).rows as T[];
    } finally {
      await client.end();
    }
  };
  return {
    db,
    sim,
    instances,
    relays,
    spawned,
    now,
    advance(ms) {
      offset += ms;
    },
    book(account = 'Sim101') {
      return sim.positions(account).map((p) => `${p.marketPosition} ${p.quantity}`);
    },
    async post(i, body) {
      const started = performance.now();
      const response = await fetch(`${instances[i]?.url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text) as AlertAnswer, ms: performance.now() - started };
    },
    async admin(i, method, path, body, authorization = `Bearer ${ADMIN_TOKEN}`) {
      const headers: Record<string, string> = {};
      if (authorization !== null) headers.authorization = authorization;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${instances[i]?.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      return { status: response.status, body: parsed };
    },
    query: queryDb,
    async outcomesWritten() {
      const until = Date.now() + 5_000;
      for (;;) {
        const [row] = await queryDb<{ n: number }>(
          `SELECT (SELECT count(*) FROM signal_log WHERE decision = 'pending') + (SELECT count(*) FROM key_records WHERE doubt = 'in-flight') AS n`,
        );
        if (Number(row?.n) === 0) return;
        if (Date.now() > until) throw new Error('outcomes still unwritten after 5 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      await Promise.all([...relays.map((r) => r.close()), ...spawned.map((s) => s.stop())]);
      await sim.close();
      await db.drop();
      temp.cleanup();
    },
  };
}
