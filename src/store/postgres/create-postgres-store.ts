import { randomInt } from 'node:crypto';
import os from 'node:os';
import pg, { type ClientConfig, type PoolClient, type QueryConfig, type QueryResult, type QueryResultRow } from 'pg';
import { recordAfterRelease } from '../../engine/decide.js';
import type { Strategy } from '../../engine/types.js';
import { accountGroupOf } from '../account-group.js';
import {
  type AlertIdentity,
  type ArbitrationDecision,
  type ArbitrationPlan,
  type ArbitrationResult,
  type InstanceIdentity,
  type InstanceRecord,
  type LogDecision,
  type LogQuery,
  type LookToken,
  type PositionKey,
  type Store,
  StoreBusyError,
  StoreUnavailableError,
  type StoppedInstances,
  type UserRecord,
} from '../store.js';
import {
  CLOSE_OWN_STATEMENT,
  CLOSE_STOPPED_STATEMENT,
  FIND_OWN_STATEMENT,
  FIND_STOPPED_STATEMENT,
  HEARTBEAT_STATEMENT,
  type InstanceRow,
  LIST_INSTANCES_STATEMENT,
  toInstanceRecord,
} from './instances.js';
import { GUARD_FAILED, GUARD_STATEMENT, KeyWork, LOAD_STATEMENT, LOOK_STATEMENT, type LoadedKeys, ms } from './key-work.js';
import { createKeyGates } from './key-gates.js';
import { lockId } from './lock-id.js';
import { maskDatabaseUrl } from './mask-database-url.js';
import { migrate, SchemaTooNewError } from './migrations.js';
import { createOutcomeQueue, type Queued } from './outcome-queue.js';
import { type KeyRow, keyId, type LogRow, rowKey, toKeyRecord, toLogRecord, toPositionRecord, toUserRecord, type UserRow } from '../rows.js';
import { createSharedLimits } from './shared-limits.js';
import { isBusyFailure, isPassingFailure, toStoreError } from './store-error.js';
import { createFlushTimer } from '../flush-timer.js';

/**
 * Timeouts are chosen for TradingView's budget: it gives up on a webhook after 3 s, and the relay
 * still has to forward within it, so a database that hangs must make a store call fail within
 * about 1.2 s (`callTimeoutMs`), never hang.
 */
export interface PostgresStoreOptions {
  /** The store's clock (ms since the epoch): what it stamps records, marks, fingerprints and `updatedAt` with. Default Date.now. */
  now?: () => number;
  /** Told about a failed background write (queued outcomes and refusals, which are retried) and a pooled connection that broke while idle. */
  onBackgroundError?: (error: unknown) => void;
  /** How long to wait before retrying queued writes after a failure (ms). Default 200. */
  retryMs?: number;
  /** How long an outcome or refusal waits to be written with the others of the moment, in one transaction (ms). Default 20. */
  outcomeGroupMs?: number;
  /** How long `flush()` and `close()` keep trying to write what is queued while the database is busy or away (ms). Default 5000. */
  flushTimeoutMs?: number;
  /**
   * The whole budget of one store call (ms), from asking the pool for a connection to the answer,
   * retries included; past it the call fails with StoreUnavailableError and its connection is
   * closed, which makes the server roll back whatever it was doing. Default 1200.
   */
  callTimeoutMs?: number;
  /** How long to wait for a new connection, or for a free one when all `poolSize` are in use (ms). Default 1000. */
  connectionTimeoutMs?: number;
  /** The server's statement_timeout: a statement running longer is cancelled (StoreUnavailableError) (ms). Default 1000. */
  statementTimeoutMs?: number;
  /**
   * The server's lock_timeout: how long a transaction waits for keys another one holds, another
   * instance's included (ms); never longer than what is left of the call's budget less the time
   * the transaction needs once it holds them, so a wait that runs out is StoreBusyError, not a
   * call past its budget. Waiters are served in turn: 40 alerts on one key wait in one line.
   * Default 800.
   */
  lockTimeoutMs?: number;
  /** Attempts after the first when a deadlock was broken, a serialization failed, or a wait ran out with budget left. Default 2. */
  busyRetries?: number;
  /**
   * The server's idle_in_transaction_session_timeout (ms): a session left in a transaction this
   * long (an instance frozen or cut off mid-transaction) is ended and its locks freed. A
   * transaction here never waits on anything but the database. Default 2000.
   */
  idleInTransactionTimeoutMs?: number;
  /** Connections this instance keeps at most. Default 10. */
  poolSize?: number;
  /** How long opening may take: connecting, waiting for another instance's migration, migrating (ms). Default 30000. */
  startTimeoutMs?: number;
  /** How often this instance heartbeats (ms), on a connection of its own. Default 1000. */
  heartbeatMs?: number;
  /**
   * An instance whose last heartbeat is older than this (ms) is stopped: what it left unfinished is
   * closed by the survivors (closeStoppedInstances). Default 5000. At least twice `heartbeatMs`.
   */
  instanceTimeoutMs?: number;
  /**
   * Close the stopped instances' forwards on every heartbeat (a relay does; a command does not):
   * within `instanceTimeoutMs` + `heartbeatMs` of an instance's last heartbeat, as long as this
   * instance's own heartbeats have been answered for the whole timeout (after the database itself
   * was away, every instance is silent for a while: none is judged until they had time to answer).
   */
  sweep?: {
    /** The reason a `pending` row of this instance becomes `unknown` with (null: an instance no longer registered). */
    reason: (instance: InstanceRecord | null) => string;
    /** Told what a sweep closed, when it closed anything. */
    onClosed?: (closed: StoppedInstances) => void;
  };
  /** Told when this instance's heartbeat found it removed as stopped (it was silent past the timeout) and registered it again. */
  onPresumedStopped?: () => void;
  /** Told when a heartbeat (or a sweep) fails after one that was answered: once per outage, not once a beat. */
  onHeartbeatError?: (error: unknown) => void;
}

/** A pooled connection lent to one store call. */
interface Session {
  query<R extends QueryResultRow = QueryResultRow>(query: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>>;
  /**
   * Sends the queries one behind the other without waiting (pg's pipeline mode: each has its own
   * Sync, so each answers on its own): one round trip for all. Answers their results in order;
   * rejects with the first error, in order, once every query has answered.
   */
  pipeline(queries: readonly (string | QueryConfig)[]): Promise<QueryResult[]>;
  /** When the call's budget ends (Date.now() ms). */
  deadline: number;
  /** The connection may be in an unknown state (a ROLLBACK failed): it is closed, not given back. */
  broken: boolean;
  /** The call's budget ran out: its caller was told it failed, whatever the session still does. */
  expired: boolean;
  /** Gives the connection back to the pool until the next query (never inside a transaction). */
  detach(): void;
}

/** What `decide` is asked about: an alert's keys and its sender. */
interface Arbitration<T> {
  keys: PositionKey[];
  sender: Strategy;
  decide: ArbitrationDecision<T>;
  identity: AlertIdentity | null;
}

/** What `arbitrateAs` read before its transaction, checked again under the locks. */
interface Checks {
  relayUser: string;
  userJson: string;
  /** The account groups the plan listed (locked exclusively), and what it was given for each. */
  lists: Map<string, PositionKey[]>;
}

/** What a look read (lookOnce), kept for its alert's next round (ArbitrationPlan.after). */
interface LookRead {
  keys: readonly PositionKey[];
  sender: Strategy;
  fingerprint: string | null;
  relayUser: string;
  loaded: Loaded;
  /** LOOK_STATEMENT's digest of `loaded`, checked under the locks by GUARD_STATEMENT. */
  digest: string;
}

/** A look older than this is not decided on (ms): a CrossTrade reading takes at most a few seconds; the guard would most likely fail. */
const LOOK_READ_MAX_AGE_MS = 5000;

/** The user or a listed account group changed between the plan and the locks: plan again. */
class Restart extends Error {
  /** @param user the user as read under the locks, when that is what changed (undefined: not read) */
  constructor(readonly user?: UserRow | null) {
    super('changed since the plan');
  }
}

/** `listKeys` was asked for an account group not read yet (see planWith). */
class GroupNotRead extends Error {}

/** `plan` or `decide` threw: their error goes to the caller as it is. */
class CallerFailure extends Error {
  constructor(readonly error: unknown) {
    super('the caller’s decision failed');
  }
}

/** A queued outcome or refusal could not be applied in memory (a throwing `Refusal.record`). */
class EntryFailure extends Error {
  constructor(readonly error: unknown) {
    super('a queued outcome could not be applied', { cause: error });
  }
}

const RESTARTS = 3;
/** The reason a decision committed after its call gave up is logged with: its alert was answered 503, and nothing was sent. */
const UNSEEN_COMMIT_REASON = 'database unavailable: decided after the database call had given up; the alert was refused (503) and nothing was sent';
/** Users kept by arbitrateAs (all forgotten when full: a relay serves far fewer). */
const USER_CACHE_SIZE = 10_000;

// bigint (oid 20) as a number: ids, versions and ms times all stay below 2^53.
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Opens the PostgreSQL database behind one relay instance (several instances share it), migrating
 * it first if needed. The store behaves as the SQLite store does (src/store/sqlite); what differs
 * is how the atomic step holds its keys: see `arbitrate` below.
 * @throws StoreUnavailableError when the database cannot be reached or opened in `startTimeoutMs` (the URL masked in its message).
 * @throws SchemaTooNewError when a newer relay has migrated the database.
 */
export async function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const now = options.now ?? Date.now;
  const retryMs = options.retryMs ?? 200;
  const flushTimeoutMs = options.flushTimeoutMs ?? 5000;
  const outcomeGroupMs = options.outcomeGroupMs ?? 20;
  const callTimeoutMs = options.callTimeoutMs ?? 1200;
  const busyRetries = options.busyRetries ?? 2;
  const lockTimeoutMs = options.lockTimeoutMs ?? 800;
  // What a transaction needs once it holds its keys (read, write, commit), kept out of its lock wait.
  const afterLocksMs = Math.min(200, callTimeoutMs / 4);
  const report = (error: unknown) => options.onBackgroundError?.(error);
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const instanceTimeoutMs = Math.max(options.instanceTimeoutMs ?? 5000, 2 * heartbeatMs);
  checkDatabaseUrl(url);
  const secrets = secretsOf(url);
  const fail = (error: unknown) => toStoreError(error, secrets);

  const base: ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 1000,
    application_name: 'trade-relay',
    keepAlive: true,
    types: TYPES,
  };
  // 48 random bits: unique among a handful of instances, and exact as a JavaScript number.
  const instance: InstanceIdentity = { id: randomInt(2 ** 48 - 1), host: os.hostname(), pid: process.pid, startedAt: Date.now() };
  const heartbeatValues = (lookForStopped: boolean) => [instance.id, instanceTimeoutMs, instance.host, instance.pid, instance.startedAt, lookForStopped];
  const synchronousCommit = await openDatabase(base, maskDatabaseUrl(url), options.startTimeoutMs ?? 30_000, secrets, heartbeatValues(false));

  const newPool = (max: number) => {
    const created = new pg.Pool({
      ...base,
      // Queries of one call that need no answer in between go out together (see Session.pipeline).
      pipeline: true,
      max,
      // Statements are planned once per connection (force_generic_plan below), on the tables'
      // statistics of that moment: a connection renewed now and then plans again on what the
      // tables have grown to (a plan made on an empty table may read it whole).
      maxLifetimeSeconds: 600,
      statement_timeout: options.statementTimeoutMs ?? 1000,
      lock_timeout: lockTimeoutMs,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 2000,
    });
    created.on('connect', (client) => {
      // A connection that breaks between two queries of a call has no query to fail: without a
      // listener its error would end the process. The call's next query reports it.
      client.on('error', () => undefined);
      // Queued before the connection's first query. The atomic step's statements are the same every
      // time, so they are planned once per connection, by index (KEY_LOOKUPS_ONLY); and sync()
      // answers at once because a commit waits for the WAL flush, which this makes sure of.
      const settings = [
        'SET plan_cache_mode = force_generic_plan',
        ...KEY_LOOKUPS_ONLY,
        ...(synchronousCommit === 'off' ? ['SET synchronous_commit = local'] : []),
      ];
      client.query(settings.join('; ')).catch(() => undefined);
    });
    // A pooled connection that broke while idle (the server restarted): the pool drops it.
    created.on('error', (error) => report(fail(error)));
    return created;
  };
  const pool = newPool(options.poolSize ?? 10);
  // Connections of their own, so a pool busy with alerts never delays them: a busy instance must
  // not look stopped, nor a load balancer take it out because its health check waited in line.
  const heartbeatPool = newPool(1);
  const pingPool = newPool(1);

  let closed = false;
  let closing: Promise<void> | null = null;
  const gates = createKeyGates();
  /**
   * Users as this instance last read them, so an alert's plan costs no round trip of its own. A
   * decision never rests on it: under the locks the user is read again and the alert planned again
   * when it changed (changedSincePlan), and a plan that decides nothing is asked again on a fresh read.
   */
  const users = new Map<string, UserRow>();
  const remember = (relayUser: string, row: UserRow | null) => {
    if (row === null) {
      users.delete(relayUser);
      return;
    }
    if (users.size >= USER_CACHE_SIZE && !users.has(relayUser)) users.clear();
    users.set(relayUser, row);
  };

  /**
   * Runs `work` on one pooled connection within `timeoutMs`. Past it the call fails with
   * StoreUnavailableError and the connection is closed: the server rolls back what it was doing
   * and frees its locks (lock_timeout and statement_timeout bound how long it may take to notice).
   */
  function call<T>(work: (session: Session) => Promise<T>, timeoutMs = callTimeoutMs, on: pg.Pool = pool): Promise<T> {
    if (closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return new Promise<T>((resolve, reject) => {
      let finished = false;
      let client: PoolClient | null = null;
      let connecting: Promise<PoolClient> | null = null;
      // The connection is taken at the first query and may be given back between transactions
      // (`detach`), so a call waiting for its keys' turn holds none.
      const connection = (): Promise<PoolClient> => {
        if (client !== null) return Promise.resolve(client);
        connecting ??= on.connect().then((lent) => {
          connecting = null;
          if (finished) {
            lent.release();
            throw new Error('Client was closed and is not queryable');
          }
          client = lent;
          return lent;
        });
        return connecting;
      };
      const session: Session = {
        deadline: Date.now() + timeoutMs,
        broken: false,
        expired: false,
        query: async (query, values) => {
          if (finished) throw new Error('Client was closed and is not queryable');
          const lent = await connection();
          if (typeof query !== 'string' && query.values !== undefined) return lent.query({ ...query, values: query.values.map(clean) });
          return lent.query(query as string, values?.map(clean));
        },
        pipeline: async (queries) => {
          if (finished) throw new Error('Client was closed and is not queryable');
          const lent = await connection();
          // Submitted in one go, in order: the driver writes them all before the first answer, and
          // the socket is corked meanwhile so they leave in one write.
          const stream = (lent as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;
          stream?.cork?.();
          let sent: Promise<QueryResult>[];
          try {
            sent = queries.map((q) => (typeof q === 'string' ? lent.query(q) : lent.query(q.values === undefined ? q : { ...q, values: q.values.map(clean) })));
          } finally {
            stream?.uncork?.();
          }
          const settled = await Promise.allSettled(sent);
          const failed = settled.find((s) => s.status === 'rejected');
          if (failed !== undefined) throw failed.reason;
          return settled.map((s) => (s as PromiseFulfilledResult<QueryResult>).value);
        },
        detach: () => giveBack(),
      };
      const giveBack = (error?: unknown) => {
        const lent = client;
        client = null;
        // A connection whose state is unknown is closed, not given to the next call.
        const destroy = session.broken || (error !== undefined && isPassingFailure(error) && !isBusyFailure(error));
        lent?.release(destroy ? new Error('connection closed by the store') : undefined);
      };
      const timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        session.broken = true;
        session.expired = true;
        giveBack();
        reject(new StoreUnavailableError(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      work(session).then(
        (value) => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          giveBack();
          resolve(value);
        },
        (error: unknown) => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          giveBack(error);
          reject(error instanceof CallerFailure ? error.error : fail(error));
        },
      );
    });
  }

  /**
   * Waits for this process's turn on the keys (see key-gates.ts), then runs `work`; a turn that
   * does not come while the call still has time for its transaction is StoreBusyError.
   */
  async function inTurn<T>(session: Session, keys: readonly PositionKey[], work: () => Promise<T>): Promise<T> {
    session.detach();
    const waitMs = session.deadline - Date.now() - afterLocksMs;
    const leave = await gates.enter(
      keys.map(keyId),
      waitMs,
      () => new StoreBusyError({ cause: new Error('this instance’s alerts on the same keys took the budget') }),
    );
    try {
      return await work();
    } finally {
      leave();
    }
  }

  /** BEGIN and the advisory locks, in one round trip. */
  async function begin(session: Session, locks: Locks): Promise<void> {
    await session.query(beginStatement(locks, lockWaitMs(session)));
  }

  /** How long this transaction may wait for its locks: never past what its call has left, less what it needs once it holds them. */
  function lockWaitMs(session: Session): number {
    return Math.max(10, Math.min(lockTimeoutMs, Math.floor(session.deadline - Date.now() - afterLocksMs)));
  }

  /** One transaction: BEGIN with its locks, `body`, COMMIT; rolled back when anything fails. */
  async function transaction<T>(session: Session, locks: Locks, body: () => Promise<T>): Promise<T> {
    try {
      await begin(session, locks);
      const value = await body();
      await session.query('COMMIT');
      return value;
    } catch (error) {
      await rollback(session);
      throw error;
    }
  }

  /** Tries `attempt` again when another writer held the keys (a lock wait ran out, a deadlock was broken), within the call's budget. */
  async function retryingBusy<T>(session: Session, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (!isBusyFailure(error) || n >= busyRetries || Date.now() + 50 > session.deadline) throw error;
        await sleep(5 + Math.random() * 20);
      }
    }
  }

  async function load(session: Session, keys: readonly PositionKey[], read: LoadRead = {}): Promise<Loaded> {
    const { rows } = await session.query(loadQuery(keys, read));
    return rows[0] as Loaded;
  }

  /** Writes what `work` changed; answers the ids of the log rows it inserted, in order. */
  async function write(session: Session, work: KeyWork): Promise<number[]> {
    if (work.empty) return [];
    const { rows } = await session.query<{ ids: number[] }>(writeQuery(work));
    return rows[0]?.ids ?? [];
  }

  /**
   * Opens the transaction: BEGIN, its lock wait, the advisory locks in their fixed order, then the
   * read under them, in one round trip (pipelined). The read is a statement of its own, sent
   * behind the locks: it runs, and takes its snapshot, only once they are held. When a lock wait
   * runs out, the read fails too (the transaction is aborted) and the lock's error is the answer.
   */
  async function beginAndLoad(session: Session, locks: Locks, keys: readonly PositionKey[], read: LoadRead): Promise<Loaded> {
    const [, loaded] = await session.pipeline([beginStatement(locks, lockWaitMs(session)), loadQuery(keys, read)]);
    return loaded?.rows[0] as Loaded;
  }

  /** Writes what `work` changed and commits, in one round trip; answers the ids of the log rows inserted. */
  async function writeAndCommit(session: Session, work: KeyWork, before: (string | QueryConfig)[] = []): Promise<number[]> {
    if (work.empty && before.length === 0) {
      await session.query('COMMIT');
      return [];
    }
    const answers = await session.pipeline([...before, ...(work.empty ? [] : [writeQuery(work)]), 'COMMIT']);
    const [written, committed] = work.empty ? [undefined, answers[before.length]] : answers.slice(before.length);
    // A COMMIT of an aborted transaction answers ROLLBACK: an error came first, so this is only a guard.
    if (committed?.command !== 'COMMIT') throw new Error(`internal: the transaction ended with ${committed?.command} instead of COMMIT`);
    return (written?.rows[0] as { ids: number[] } | undefined)?.ids ?? [];
  }

  /**
   * `writeAndCommit` for a call whose caller may give up first. When the answer to the COMMIT is
   * not seen (the call's budget ran out, the connection broke) the transaction may have committed
   * while its caller heard a failure and sent nothing: what it left unfinished (a key in flight,
   * a `pending` row) is queued to be closed, only where it is still as this work left it.
   */
  async function writeAndCommitSeen(session: Session, work: KeyWork, before: (string | QueryConfig)[] = []): Promise<number[]> {
    const unanswered = work.unanswered();
    const closeLater = () => {
      if (unanswered.keys.length === 0 && unanswered.logs.length === 0) return;
      queue.push({ kind: 'void', unanswered });
      scheduleFlush(retryMs);
    };
    try {
      const ids = await writeAndCommit(session, work, before);
      if (session.expired) closeLater();
      return ids;
    } catch (error) {
      // The server's own error: the transaction did not commit.
      if (!(error instanceof pg.DatabaseError)) closeLater();
      throw error;
    }
  }

  /** Ends a failed transaction; a connection where that fails too is closed, not given back. */
  async function rollback(session: Session): Promise<void> {
    await session.query('ROLLBACK').catch(() => {
      session.broken = true;
    });
  }

  const apply = (work: KeyWork, item: Queued) => {
    try {
      if (item.kind === 'settle') work.settle(item.settlement);
      else if (item.kind === 'refusal') work.refuse(item.refusal);
      else work.void(item.unanswered, UNSEEN_COMMIT_REASON);
    } catch (error) {
      throw new EntryFailure(error);
    }
  };

  // Outcomes and refusals are queued: written in groups after the answer, and applied first by
  // the next arbitration, so no decision is ever taken on a record missing an earlier outcome.
  // What a failed transaction took goes back, to be written by the next one or by a retry after
  // `retryMs` (not at once: a database that refuses connections would be asked in a tight loop).
  const queue = createOutcomeQueue({ onReturned: () => scheduleFlush(retryMs) });
  // Per look answered (its token, held by the alert until its next round), what it read.
  const lookReads = new WeakMap<LookToken, LookRead>();

  /**
   * The atomic step, and the background flush when `arbitration` is null. Claims what is queued
   * for the alert's keys (all of it for the flush; after any other transaction of this process
   * that holds queued outcomes of the same keys), then in one transaction: locks the account groups shared (exclusive: those a plan listed
   * whole) and the keys, in a fixed order; reads them; applies the queued outcomes; lets `decide`
   * choose; writes everything in one statement; commits.
   */
  async function decideOnce<T>(
    session: Session,
    arbitration: Arbitration<T> | null,
    checks: Checks | null,
    unflushed = false,
  ): Promise<ArbitrationResult<T> | null> {
    const claim = arbitration === null ? await queue.claim([], null, true) : await queue.claim(arbitration.keys, arbitration.identity?.fingerprint ?? null);
    if (arbitration === null && claim.entries.length === 0) return null;
    try {
      const keys = [...(arbitration?.keys ?? []), ...claim.entries.flatMap((entry) => entry.keys)];
      const listed = checks === null ? [] : [...checks.lists.keys()];
      const fingerprint = arbitration?.identity?.fingerprint ?? null;
      let result: ArbitrationResult<T> | null = null;
      // Two round trips: BEGIN + locks + read, then write + COMMIT (decide runs in between, here).
      try {
        const loaded = await beginAndLoad(session, { exclusive: listed, keys, unflushed: arbitration === null && unflushed }, keys, {
          sender: arbitration?.sender ?? null,
          fingerprint,
          relayUser: checks?.relayUser ?? null,
          groups: listed,
        });
        if (checks !== null && changedSincePlan(checks, loaded)) throw new Restart(loaded.user);
        const time = now();
        const work = new KeyWork(keys, loaded, arbitration?.sender ?? null, fingerprint, now, instance.id);
        for (const entry of claim.entries) apply(work, entry.item);
        if (arbitration === null) {
          await writeAndCommitSeen(session, work);
        } else {
          const decided = decideOn(work, arbitration, time);
          const ids = await writeAndCommitSeen(session, work);
          result = answerOf(decided, ids);
        }
      } catch (error) {
        await rollback(session);
        throw error;
      }
      claim.commit();
      return result;
    } catch (error) {
      claim.release();
      throw error;
    }
  }

  /**
   * A look without locks (ArbitrationPlan.look): one statement, outside any transaction, so one
   * round trip instead of two and no locks. What this process has queued for the keys is applied
   * in memory, as a decision would, and put back. Answers what `decide` chose when it writes
   * nothing; null when it would write, and the caller decides under the locks. The look's answer
   * is a wait or a CrossTrade check, after which the alert is decided again under the locks.
   */
  async function lookOnce<T>(session: Session, plan: Arbitration<T>, checks: Checks): Promise<ArbitrationResult<T> | null> {
    const fingerprint = plan.identity?.fingerprint ?? null;
    const claim = await queue.claim(plan.keys, fingerprint);
    try {
      const keys = [...plan.keys, ...claim.entries.flatMap((entry) => entry.keys)];
      const listed = [...checks.lists.keys()];
      const read: LoadRead = { sender: plan.sender, fingerprint, relayUser: checks.relayUser, groups: listed };
      const { rows } = await session.query({ ...loadQuery(keys, read), name: 'relay-look', text: LOOK_STATEMENT });
      const loaded = rows[0] as Loaded & { digest: string };
      if (changedSincePlan(checks, loaded)) throw new Restart(loaded.user);
      const work = new KeyWork(keys, loaded, plan.sender, fingerprint, now, instance.id);
      for (const entry of claim.entries) apply(work, entry.item);
      const decided = decideOn(work, plan, now());
      if (!decided.writesNothing) return null;
      const result = answerOf(decided, []);
      // Only a read with nothing of this process's queue applied to it can be checked under the
      // locks as it is, and only one of the alert's own keys (no account group listed whole).
      if (claim.entries.length > 0 || listed.length > 0) return result;
      const token: LookToken = { lookedAt: now() };
      lookReads.set(token, { keys: plan.keys, sender: plan.sender, fingerprint, relayUser: checks.relayUser, loaded, digest: loaded.digest });
      return { ...result, look: token };
    } catch (error) {
      // A failed look decides nothing: the locks' round decides (and reports what does not pass).
      if (error instanceof Restart) throw error;
      return null;
    } finally {
      // Put back unwritten, and written as soon as they would have been (not after a failure's retry delay).
      claim.release(true);
      if (claim.entries.length > 0) scheduleFlush(outcomeGroupMs);
    }
  }

  /**
   * Decides `arbitration` on what `work` holds at `time` and applies the decision to it: the
   * alert's writes, its fingerprint and marks when decided, its log row. `writesNothing`: none of
   * that (a wait, or a CrossTrade check asked for). Pure but for `work`; `decide` must not throw.
   */
  function decideOn<T>(
    work: KeyWork,
    arbitration: Arbitration<T>,
    time: number,
  ): { value: T; logIndex: number | null; versions: (number | null)[]; writesNothing: boolean } {
    const { keys: own, decide, identity } = arbitration;
    const views = own.map((key) => work.view(key));
    let decision: ReturnType<ArbitrationDecision<T>>;
    try {
      decision = decide(views, work.earlier(identity, time));
    } catch (error) {
      throw new CallerFailure(error);
    }
    const writesNothing = !decision.seen && decision.log === null && decision.writes.every((w) => w === null);
    const versions = own.map((key, i) => {
      const w = decision.writes[i] ?? null;
      return w === null ? (views[i]?.version ?? null) : work.applyWrite(key, w, views[i]?.version ?? null);
    });
    if (decision.seen && identity !== null) {
      work.seeDecided(identity.fingerprint, time);
      for (const key of own) work.setLast(key, identity, identity.fingerprint);
    }
    const logIndex = decision.log === null ? null : work.appendLog(decision.log);
    return { value: decision.value, logIndex, versions, writesNothing };
  }

  /** What a decision answers once written: `ids` are the log rows its write inserted, in order. */
  function answerOf<T>(decided: { value: T; logIndex: number | null; versions: (number | null)[] }, ids: readonly number[]): ArbitrationResult<T> {
    return { value: decided.value, logId: decided.logIndex === null ? null : (ids[decided.logIndex] ?? null), versions: decided.versions };
  }

  /**
   * The look `plan.after` names, when this round may be decided on it: read by this process for
   * the same keys, sender, fingerprint and user, planned on the same user, and not yet used (once
   * only). Undefined otherwise, and the round is decided under the locks as usual.
   */
  function lookReadFor<T>(plan: ArbitrationPlan<T>, checks: Checks): LookRead | undefined {
    if (plan.after === undefined) return undefined;
    const read = lookReads.get(plan.after);
    lookReads.delete(plan.after);
    if (read === undefined || checks.lists.size > 0 || now() - plan.after.lookedAt > LOOK_READ_MAX_AGE_MS) return undefined;
    const sameKeys = read.keys.length === plan.keys.length && read.keys.every((key, i) => keyId(key) === keyId(plan.keys[i] as PositionKey));
    const same =
      sameKeys &&
      read.sender.relayUser === plan.sender.relayUser &&
      read.sender.relayId === plan.sender.relayId &&
      read.fingerprint === (plan.identity?.fingerprint ?? null) &&
      read.relayUser === checks.relayUser &&
      !changedSincePlan(checks, read.loaded);
    return same ? read : undefined;
  }

  /**
   * A round decided on its look's read (ArbitrationPlan.after): `decide` runs on what the look
   * read, then one round trip sends BEGIN with the locks, GUARD_STATEMENT (the look's read again,
   * under the locks, failing unless nothing in it changed), the write and COMMIT. What it writes
   * is then exactly what the usual round would have written, deciding on the same rows at about
   * the same moment, and the locks are held for one round trip instead of two. Answers null when
   * it cannot: this process has outcomes queued for the keys (the look saw none), the read
   * changed, or the keys' locks were busy; the round is then decided as usual.
   */
  async function decideOnLook<T>(session: Session, plan: Arbitration<T>, read: LookRead): Promise<ArbitrationResult<T> | null> {
    const fingerprint = plan.identity?.fingerprint ?? null;
    const claim = await queue.claim(plan.keys, fingerprint);
    if (claim.entries.length > 0) {
      claim.release(true);
      return null;
    }
    const work = new KeyWork(plan.keys, read.loaded, plan.sender, fingerprint, now, instance.id);
    const decided = decideOn(work, plan, now());
    if (decided.writesNothing) return answerOf(decided, []);
    const loadValues = loadQuery(plan.keys, { sender: plan.sender, fingerprint, relayUser: read.relayUser, groups: [] }).values ?? [];
    const guard: QueryConfig = { name: 'relay-guard', text: GUARD_STATEMENT, values: [...loadValues, read.digest] };
    let ids: number[];
    try {
      ids = await writeAndCommitSeen(session, work, [beginStatement({ keys: plan.keys }, lockWaitMs(session)), guard]);
    } catch (error) {
      await rollback(session);
      if (error instanceof pg.DatabaseError && (error.code === GUARD_FAILED || isBusyFailure(error))) return null;
      throw error;
    }
    return answerOf(decided, ids);
  }

  /**
   * `decideOnce` with its retries. A queued outcome that cannot be written (a value the database
   * refuses, a throwing `Refusal.record`) must not stop every later decision: when the transaction
   * fails for a reason that will not pass and it held queued outcomes, they are written one
   * transaction each, the one that fails is reported and given up, and the decision is tried again.
   */
  async function decideWithRetries<T>(
    session: Session,
    arbitration: Arbitration<T> | null,
    checks: Checks | null,
    unflushed = false,
  ): Promise<ArbitrationResult<T> | null> {
    const attempt = () => retryingBusy(session, () => decideOnce(session, arbitration, checks, unflushed));
    try {
      return await attempt();
    } catch (error) {
      // Another transaction of this process may have taken those outcomes meanwhile: it does the same.
      const poisoned = error instanceof EntryFailure || !(isPassingFailure(error) || error instanceof CallerFailure || error instanceof Restart);
      if (!poisoned) throw error;
      await writeEachQueued(session);
      return attempt();
    }
  }

  async function writeEachQueued(session: Session): Promise<void> {
    const claim = await queue.claim([], null, true);
    try {
      for (const entry of claim.entries) {
        try {
          await retryingBusy(session, () =>
            transaction(session, { keys: entry.keys }, async () => {
              const work = new KeyWork(entry.keys, await load(session, entry.keys), null, null, now, instance.id);
              apply(work, entry.item);
              await write(session, work);
            }),
          );
        } catch (error) {
          if (isPassingFailure(error)) throw error;
          report(fail(error instanceof EntryFailure ? error.error : error));
        }
        claim.done(entry);
      }
      claim.commit();
    } catch (error) {
      claim.release();
      throw error;
    }
  }

  /**
   * Writes what is queued now, in one transaction (background, listings, flush). `unflushed`: its
   * COMMIT does not wait for the WAL flush (see Locks.unflushed); flush() and close() wait for it.
   */
  async function drainOnce(unflushed = false): Promise<void> {
    // Waited for before taking a connection, so a long transaction of another call does not eat this call's budget.
    await queue.settled();
    if (queue.waiting === 0) return;
    await call((session) => decideWithRetries(session, null, null, unflushed));
  }

  let flushing = false;
  let flushAgain = false;
  const runFlush = async () => {
    if (flushing) {
      flushAgain = true;
      return;
    }
    if (closed || queue.waiting === 0) return;
    flushing = true;
    try {
      await drainOnce(true);
    } catch (error) {
      // Busy or away: keep everything and try again shortly; never crash the relay.
      report(fail(error));
      scheduleFlush(retryMs);
    } finally {
      flushing = false;
      if (flushAgain) {
        flushAgain = false;
        if (queue.waiting > 0) scheduleFlush(0);
      }
    }
  };
  // Once closing, close() writes what is queued, within its own time.
  const flushTimer = createFlushTimer(
    () => void runFlush(),
    () => closing !== null,
  );
  function scheduleFlush(delayMs: number): void {
    flushTimer.schedule(delayMs);
  }
  const cancelFlush = () => flushTimer.cancel();

  /** Writes the queue now; while the database is busy or away, tries again until `timeoutMs` has passed, then rejects. */
  async function flushWithin(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (queue.pending === 0) return;
      try {
        await drainOnce();
      } catch (error) {
        const left = deadline - Date.now();
        if (!isPassingFailure(error) || left <= 0) throw fail(error);
        await sleep(Math.min(retryMs, left));
      }
    }
  }

  /** Listings show outcomes already queued, as the SQLite store's do; a failure is reported and retried, not thrown. */
  async function flushForListing(): Promise<void> {
    if (queue.pending === 0) return;
    try {
      await drainOnce(true);
    } catch (error) {
      report(fail(error));
      scheduleFlush(retryMs);
    }
  }

  async function readUser(session: Session, relayUser: string): Promise<UserRow | null> {
    const { rows } = await session.query<{ user: UserRow }>({
      name: 'relay-user',
      text: 'SELECT row_to_json(u) AS "user" FROM users u WHERE u.relay_user = $1',
      values: [relayUser],
    });
    return rows[0]?.user ?? null;
  }

  /** Asks `plan` for the keys; the account groups it lists are read and it is asked again with them. */
  async function planWith<T>(
    session: Session,
    user: UserRecord | null,
    plan: (user: UserRecord | null, listKeys: (accountGroup: string) => PositionKey[]) => ArbitrationPlan<T> | null,
  ): Promise<{ chosen: ArbitrationPlan<T> | null; lists: Map<string, PositionKey[]> }> {
    const lists = new Map<string, PositionKey[]>();
    for (let round = 0; ; round++) {
      const missing = new Set<string>();
      // A group not read yet stops the plan (it never decides on a list it was not given): it is
      // read, and the plan asked again. A plan that catches that and answers anyway is asked again too.
      const listKeys = (accountGroup: string) => {
        const known = lists.get(accountGroup);
        if (known !== undefined) return known;
        missing.add(accountGroup);
        throw new GroupNotRead();
      };
      let chosen: ArbitrationPlan<T> | null = null;
      try {
        chosen = plan(user, listKeys);
      } catch (error) {
        if (!(error instanceof GroupNotRead)) throw new CallerFailure(error);
      }
      if (missing.size === 0) return { chosen, lists };
      if (round >= RESTARTS) throw new Error('the plan kept asking for other account groups');
      for (const group of missing) lists.set(group, []);
      const { rows } = await session.query<KeyRow>(
        'SELECT account_group, account, instrument_key FROM key_records WHERE account_group = ANY($1::text[]) ORDER BY account_group, account_key, instrument_key',
        [[...missing]],
      );
      for (const row of rows) lists.get(row.account_group)?.push(rowKey(row));
    }
  }

  /** Runs `attempt` again (from its own reads) when what it read before its locks changed meanwhile; `onRestart` is told why first. */
  async function restarting<T>(attempt: () => Promise<T>, onRestart?: (restart: Restart) => void): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof Restart)) throw error;
        if (n >= RESTARTS) throw new StoreBusyError({ cause: new Error('the user kept changing while the alert was decided') });
        onRestart?.(error);
      }
    }
  }

  /**
   * Releases a key (the caller holds its lock): it stays in doubt, and its owner holds nothing there any more.
   * @param byHand a person said its orders are done (clear-position); else the doubt starts when the owner's hold ends (recordAfterRelease)
   */
  function clear(work: KeyWork, key: PositionKey, byHand: boolean): boolean {
    const row = work.row(key);
    if (row === null) return false;
    // Released, the key stays in doubt: if its position is in fact still open, the next entry reads it and is blocked.
    work.writeRecord(key, row.instrument, recordAfterRelease(toKeyRecord(row), now(), byHand));
    if (row.owner_user === null || row.owner_id === null) return false;
    work.mark(key, [{ relayUser: row.owner_user, relayId: row.owner_id, holdsNothing: true }]);
    return true;
  }

  /**
   * A user's key changed (its account group locked exclusively, both of them): its positions and
   * memory move to the new group. A key there that already has a record keeps it, put in doubt,
   * and the moving owner holds nothing there; an order in flight can no longer be settled under
   * the old group, so its outcome becomes unknown.
   */
  async function moveUser(session: Session, relayUser: string, from: string, to: string): Promise<void> {
    const { rows: owned } = await session.query<KeyRow>('SELECT * FROM key_records WHERE account_group = $1 AND owner_user = $2', [from, relayUser]);
    const olds = owned.map(rowKey);
    const targets = owned.map((row) => ({ accountGroup: to, account: row.account, instrumentKey: row.instrument_key }));
    const work = new KeyWork([...olds, ...targets], await load(session, [...olds, ...targets]), null, null, now, instance.id);
    owned.forEach((row, i) => {
      const target = targets[i] as PositionKey;
      const moved = toKeyRecord(row);
      const existing = work.row(target);
      work.writeRecord(olds[i] as PositionKey, row.instrument, { owner: null, doubt: null });
      if (existing === null) {
        work.writeRecord(target, row.instrument, moved.doubt?.kind === 'in-flight' ? { ...moved, doubt: { kind: 'unknown-outcome', since: now() } } : moved);
      } else {
        work.writeRecord(target, existing.instrument, { ...toKeyRecord(existing), doubt: { kind: 'changed', since: now() } });
        work.mark(target, [{ relayUser, relayId: row.owner_id ?? '', holdsNothing: true }]);
      }
    });
    await write(session, work);
    // Memory already kept in the new group (a mark just written) wins; the rest moves.
    await session.query(
      `UPDATE strategy_keys s SET account_group = $1 WHERE s.account_group = $2 AND s.relay_user = $3
         AND NOT EXISTS (SELECT 1 FROM strategy_keys t WHERE t.account_group = $1 AND t.account_key = s.account_key
                           AND t.instrument_key = s.instrument_key AND t.relay_user = s.relay_user AND t.relay_id = s.relay_id)`,
      [to, from, relayUser],
    );
    await session.query('DELETE FROM strategy_keys WHERE account_group = $1 AND relay_user = $2', [from, relayUser]);
  }

  /**
   * A user switched between paper and live: the paper book and the CrossTrade accounts hold different
   * positions, so nothing moves; what it owned in the old group is released (in doubt) and it holds nothing there.
   */
  async function leaveGroup(session: Session, relayUser: string, from: string): Promise<void> {
    const { rows: owned } = await session.query<KeyRow>('SELECT * FROM key_records WHERE account_group = $1 AND owner_user = $2', [from, relayUser]);
    const keys = owned.map(rowKey);
    const work = new KeyWork(keys, await load(session, keys), null, null, now, instance.id);
    for (const key of keys) clear(work, key, false);
    await write(session, work);
    await session.query('DELETE FROM strategy_keys WHERE account_group = $1 AND relay_user = $2', [from, relayUser]);
  }

  /**
   * Closes what stopped instances left (see CLOSE_STOPPED_STATEMENT): read outside the transaction
   * which account groups hold their keys in flight, then lock those groups whole (and the sweep's
   * own lock first, so survivors sweep one at a time) and close, in one transaction.
   */
  async function closeStopped(session: Session, reason: (instance: InstanceRecord | null) => string): Promise<StoppedInstances> {
    return retryingBusy(session, async () => {
      const found = await session.query<{ instances: InstanceRow[]; groups: string[] }>(FIND_STOPPED_STATEMENT, [instance.id, instanceTimeoutMs]);
      const known = (found.rows[0]?.instances ?? []).map(toInstanceRecord);
      const groups = found.rows[0]?.groups ?? [];
      return transaction(session, { first: lockId('instances', 'sweep'), exclusive: groups, keys: [] }, async () => {
        const { rows } = await session.query<{ keys: number; logs: number; instances: InstanceRow[] }>(CLOSE_STOPPED_STATEMENT, [
          instance.id,
          instanceTimeoutMs,
          groups,
          known.map((i) => i.id),
          known.map((i) => reason(i)),
          reason(null),
        ]);
        const closed = rows[0];
        return { instances: (closed?.instances ?? []).map(toInstanceRecord), logs: closed?.logs ?? 0, keys: closed?.keys ?? 0 };
      });
    });
  }

  /** Closes what this instance leaves unfinished (see CLOSE_OWN_STATEMENT) and removes its registration, in one transaction. */
  async function closeOwn(session: Session, reason: string): Promise<void> {
    await retryingBusy(session, async () => {
      const found = await session.query<{ groups: string[] }>(FIND_OWN_STATEMENT, [instance.id]);
      const groups = found.rows[0]?.groups ?? [];
      await transaction(session, { exclusive: groups, keys: [] }, () => session.query(CLOSE_OWN_STATEMENT, [instance.id, groups, reason]));
    });
  }

  // The heartbeat: one statement a beat on a connection of its own, which also says whether a
  // stopped instance left anything; then, when this instance sweeps, the sweep.
  let heartbeatTimer: NodeJS.Timeout | null = null;
  let beating: Promise<void> | null = null;
  let stopping = false;
  /** Since when (Date.now()) every heartbeat of this instance was answered, one beat after the other; null after a failure. */
  let answeredSince: number | null = Date.now();
  let lastAnswered = Date.now();
  const beat = async () => {
    heartbeatTimer = null;
    try {
      const sweep = options.sweep;
      const { rows } = await call(
        (session) => session.query<{ registered: boolean; stopped: boolean }>(HEARTBEAT_STATEMENT, heartbeatValues(sweep !== undefined)),
        Math.min(callTimeoutMs, heartbeatMs),
        heartbeatPool,
      );
      const at = Date.now();
      // A beat that came late (the event loop or the database stalled) starts the count again.
      if (answeredSince === null || at - lastAnswered > 2 * heartbeatMs + callTimeoutMs) answeredSince = at;
      lastAnswered = at;
      if (rows[0]?.registered === true) options.onPresumedStopped?.();
      // Judging others silent is only fair once this instance was answered for the whole timeout.
      if (sweep !== undefined && rows[0]?.stopped === true && at - answeredSince >= instanceTimeoutMs && !stopping) {
        const closed = await call((session) => closeStopped(session, sweep.reason), callTimeoutMs, heartbeatPool);
        if (closed.instances.length > 0 || closed.logs > 0 || closed.keys > 0) sweep.onClosed?.(closed);
      }
    } catch (error) {
      if (answeredSince !== null) options.onHeartbeatError?.(fail(error));
      answeredSince = null;
    }
  };
  const scheduleBeat = () => {
    if (stopping) return;
    heartbeatTimer = setTimeout(() => {
      beating = beat().finally(() => {
        beating = null;
        scheduleBeat();
      });
    }, heartbeatMs);
    heartbeatTimer.unref();
  };
  scheduleBeat();
  const stopHeartbeat = async () => {
    stopping = true;
    if (heartbeatTimer !== null) clearTimeout(heartbeatTimer);
    heartbeatTimer = null;
    await beating;
  };

  let pinging: Promise<boolean> | null = null;

  const logFilter = (query: LogQuery, first = 1) => {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, value: unknown) => {
      params.push(value);
      conditions.push(condition.replace('?', `$${first + params.length - 1}`));
    };
    if (query.relayUser !== undefined) add('relay_user = ?', query.relayUser);
    if (query.relayId !== undefined) add('relay_id = ?', query.relayId);
    // Times are whole ms: a bound between two of them is the next whole one.
    if (query.since !== undefined) add('time >= ?', Math.ceil(query.since));
    if (query.until !== undefined) add('time < ?', Math.ceil(query.until));
    if (query.afterId !== undefined) add('id > ?', Math.floor(query.afterId));
    if (query.decisions !== undefined) add('decision = ANY(?::text[])', query.decisions);
    return { where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
  };

  const inBatches = async (deleteBatch: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (let n = await deleteBatch(); n > 0; n = await deleteBatch()) total += n;
    return total;
  };

  // A prune or a give-back (shared-limits.ts) left running when the store closes fails quietly: its rows expire anyway.
  const limits = createSharedLimits(
    (text, values) => call(async (session) => (await session.query(text, values)).rows),
    (error) => {
      if (!closed) report(error);
    },
  );

  return {
    kind: 'postgres',
    ...limits,

    getUser: (relayUser) =>
      call(async (session) => {
        const row = await readUser(session, relayUser);
        return row === null ? null : toUserRecord(row);
      }),

    listUsers: () => call(async (session) => (await session.query<UserRow>('SELECT * FROM users ORDER BY relay_user')).rows.map(toUserRecord)),

    saveUser: (user) =>
      call((session) => {
        users.delete(user.relayUser);
        const secret = user.relaySecret ?? null;
        const paper = user.paper === true;
        const group = accountGroupOf(user.crosstradeKey, paper);
        return restarting(async () => {
          const stamp = new Date(now()).toISOString();
          const existing = await readUser(session, user.relayUser);
          if (existing === null) {
            const { rowCount } = await session.query(
              `INSERT INTO users (relay_user, crosstrade_key, webhook_url, relay_secret, account_group, created_at, updated_at, paper)
               VALUES ($1, $2, $3, $4, $5, $6, $6, $7) ON CONFLICT (relay_user) DO NOTHING`,
              [user.relayUser, user.crosstradeKey, user.webhookUrl, secret, group, stamp, paper],
            );
            if (rowCount !== 1) throw new Restart(); // created meanwhile by another instance
            return 'created' as const;
          }
          const update = [user.crosstradeKey, user.webhookUrl, secret, group, stamp, paper, user.relayUser, existing.account_group];
          const updateUser =
            'UPDATE users SET crosstrade_key = $1, webhook_url = $2, relay_secret = $3, account_group = $4, updated_at = $5, paper = $6 WHERE relay_user = $7 AND account_group = $8';
          if (existing.account_group === group) {
            // Same account group: nothing moves. The condition catches a key changed meanwhile.
            if ((await session.query(updateUser, update)).rowCount !== 1) throw new Restart();
            return 'updated' as const;
          }
          return retryingBusy(session, () =>
            transaction(session, { exclusive: [existing.account_group, group], keys: [] }, async () => {
              if ((await readUser(session, user.relayUser))?.account_group !== existing.account_group) throw new Restart();
              if (existing.paper === paper) await moveUser(session, user.relayUser, existing.account_group, group);
              else await leaveGroup(session, user.relayUser, existing.account_group);
              await session.query(updateUser, update);
              return 'updated' as const;
            }),
          );
        });
      }),

    removeUser: (relayUser) =>
      call((session) =>
        restarting(async () => {
          users.delete(relayUser);
          const { rows } = await session.query<{ account_group: string }>('SELECT DISTINCT account_group FROM key_records WHERE owner_user = $1', [relayUser]);
          const groups = rows.map((row) => row.account_group);
          return retryingBusy(session, () =>
            transaction(session, { exclusive: groups, keys: [] }, async () => {
              if ((await readUser(session, relayUser)) === null) return false;
              const { rows: owned } = await session.query<KeyRow>('SELECT * FROM key_records WHERE owner_user = $1', [relayUser]);
              if (owned.some((row) => !groups.includes(row.account_group))) throw new Restart();
              const keys = owned.map(rowKey);
              const work = new KeyWork(keys, await load(session, keys), null, null, now, instance.id);
              for (const key of keys) clear(work, key, false);
              await write(session, work);
              await session.query('DELETE FROM users WHERE relay_user = $1', [relayUser]);
              return true;
            }),
          );
        }),
      ),

    listPositions: async (relayUser) => {
      await flushForListing();
      return call(async (session) => {
        const { rows } =
          relayUser === undefined
            ? await session.query<KeyRow>('SELECT * FROM key_records WHERE owner_user IS NOT NULL ORDER BY owner_user, account_key, instrument_key')
            : await session.query<KeyRow>('SELECT * FROM key_records WHERE owner_user = $1 ORDER BY account_key, instrument_key', [relayUser]);
        return rows.flatMap(toPositionRecord);
      });
    },

    listKeys: (accountGroup) =>
      call(async (session) => {
        const { rows } = await session.query<KeyRow>(
          'SELECT account_group, account, instrument_key FROM key_records WHERE account_group = $1 ORDER BY account_key, instrument_key',
          [accountGroup],
        );
        return rows.map(rowKey);
      }),

    clearPosition: ({ relayUser, account, instrumentKey }) =>
      call((session) =>
        restarting(async () => {
          const user = await readUser(session, relayUser);
          if (user === null) return false;
          const key = { accountGroup: user.account_group, account, instrumentKey };
          return retryingBusy(session, () =>
            transaction(session, { keys: [key] }, async () => {
              const loaded = await load(session, [key], { relayUser });
              if (loaded.user?.account_group !== user.account_group) throw new Restart();
              const work = new KeyWork([key], loaded, null, null, now, instance.id);
              const cleared = clear(work, key, true);
              await write(session, work);
              return cleared;
            }),
          );
        }),
      ),

    /**
     * One transaction per alert, holding its keys against every other writer of every instance:
     * transaction-scoped advisory locks (pg_advisory_xact_lock) on a 64-bit hash of each key, taken
     * in one fixed order (account groups, then keys, each sorted by hash), so two alerts that share
     * keys never deadlock. Advisory rather than row locks: a key an entry claims has no row yet, and
     * neither do the strategy marks and fingerprints written beside it. Every writer of a key's
     * rows takes its group's lock shared and the key's exclusively; a writer of a whole account
     * group (a plan that lists it, a user's key change, closing interrupted forwards) takes the
     * group's lock exclusively. The locks end with the transaction, which never waits on anything
     * but the database: the order is sent after it commits.
     */
    arbitrate: async <T>(keys: PositionKey[], sender: Strategy, decide: ArbitrationDecision<T>, identity: AlertIdentity | null) =>
      (await call((session) => inTurn(session, keys, () => decideWithRetries(session, { keys, sender, decide, identity }, null)))) as ArbitrationResult<T>,

    /**
     * `plan` chooses the keys before the transaction, with the user as this instance last read it
     * (read now when it has none; an unknown user costs one query and no lock); under the locks the
     * user and the account groups the plan listed are read again, and when either changed meanwhile
     * the alert is planned again with what was read there. A plan that decides nothing on a
     * remembered user is asked again on a fresh read: refusing is decided on the user as it is now.
     */
    arbitrateAs: <T>(
      relayUser: string,
      plan: (user: UserRecord | null, listKeys: (accountGroup: string) => PositionKey[]) => ArbitrationPlan<T> | null,
    ): Promise<ArbitrationResult<T> | null> =>
      call((session) =>
        restarting(
          async () => {
            const cached = users.get(relayUser);
            let row = cached ?? (await readUser(session, relayUser));
            let planned = await planWith(session, row === null ? null : toUserRecord(row), plan);
            if (planned.chosen === null && cached !== undefined) {
              // Deciding nothing (a refused relay_secret) goes by the user as the database has it now.
              row = await readUser(session, relayUser);
              planned = await planWith(session, row === null ? null : toUserRecord(row), plan);
            }
            remember(relayUser, row);
            const { chosen, lists } = planned;
            if (chosen === null) return null;
            const checks: Checks = { relayUser, userJson: JSON.stringify(row), lists };
            return inTurn(session, chosen.keys, async () => {
              const looked = chosen.look === true ? await lookOnce(session, chosen, checks) : null;
              if (looked !== null) return looked;
              const read = lookReadFor(chosen, checks);
              const onLook = read === undefined ? null : await decideOnLook(session, chosen, read);
              return onLook ?? decideWithRetries(session, chosen, checks);
            });
          },
          // The user as read under the locks is the one to plan with next (no read of its own).
          (restart) => (restart.user === undefined ? users.delete(relayUser) : remember(relayUser, restart.user)),
        ),
      ),

    // Written a little later, several to a transaction: at 200 alerts a second one transaction
    // per outcome cost as much as the decisions. The next decision on the same keys applies them
    // first, and listings write them before they read, so nothing reads a record without them.
    settle: (settlement) => {
      queue.push({ kind: 'settle', settlement });
      scheduleFlush(outcomeGroupMs);
    },

    recordRefusal: (refusal) => {
      queue.push({ kind: 'refusal', refusal });
      scheduleFlush(outcomeGroupMs);
    },

    flush: () => flushWithin(flushTimeoutMs),

    // PostgreSQL's COMMIT answers once the WAL is flushed (synchronous_commit, made sure at open):
    // every decision committed is already durable, so there is nothing to wait for.
    sync: () => Promise.resolve(),

    appendLog: (entry) =>
      call(async (session) => {
        const { rows } = await session.query<{ id: number }>(
          `INSERT INTO signal_log (time, relay_user, relay_id, account, instrument, signal_type, decision, reason, api_check, upstream_status, latency_ms, alert,
                                   instance_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
          [
            ms(entry.time),
            entry.relayUser,
            entry.relayId,
            entry.account,
            entry.instrument,
            entry.signalType,
            entry.decision,
            entry.reason,
            entry.apiCheck,
            entry.upstreamStatus,
            entry.latencyMs,
            entry.alert,
            instance.id,
          ],
        );
        return rows[0]?.id as number;
      }),

    listLogs: async (query) => {
      await flushForListing();
      const { where, params } = logFilter(query);
      return call(async (session) => {
        const { rows } = await session.query<LogRow>(
          `SELECT * FROM signal_log ${where} ORDER BY id ${query.oldestFirst === true ? 'ASC' : 'DESC'} LIMIT $${params.length + 1}`,
          [...params, query.limit],
        );
        return rows.map(toLogRecord);
      });
    },

    countLogs: async (query) => {
      await flushForListing();
      const { where, params } = logFilter(query);
      return call(async (session) => {
        const { rows } = await session.query<{ decision: LogDecision; n: number }>(
          `SELECT decision, count(*) AS n FROM signal_log ${where} GROUP BY decision`,
          params,
        );
        return Object.fromEntries(rows.map((row) => [row.decision, row.n]));
      });
    },

    // Only what no live instance owns: another instance's orders in flight are its own to settle.
    closeInterruptedForwards: async (reason) => (await call((session) => closeStopped(session, () => reason))).logs,

    instance,

    listInstances: () => call(async (session) => (await session.query<InstanceRow>(LIST_INSTANCES_STATEMENT, [instanceTimeoutMs])).rows.map(toInstanceRecord)),

    closeStoppedInstances: (reason) => call((session) => closeStopped(session, reason)),

    // In batches, each a statement of its own, so a large prune never holds rows for long. The
    // time is checked again on the row deleted: a fingerprint seen again meanwhile stays.
    prune: async ({ logsBefore, fingerprintsBefore }) => ({
      logs: await inBatches(() =>
        call(
          async (session) =>
            (
              await session.query('DELETE FROM signal_log WHERE id IN (SELECT id FROM signal_log WHERE time < $1 LIMIT 1000) AND time < $1', [
                Math.ceil(logsBefore),
              ])
            ).rowCount ?? 0,
        ),
      ),
      fingerprints: await inBatches(() =>
        call(
          async (session) =>
            (
              await session.query(
                'DELETE FROM alert_fingerprints WHERE fingerprint IN (SELECT fingerprint FROM alert_fingerprints WHERE time < $1 LIMIT 1000) AND time < $1',
                [Math.ceil(fingerprintsBefore)],
              )
            ).rowCount ?? 0,
        ),
      ),
    }),

    getPaperBook: (accountGroup) =>
      call(
        async (session) =>
          (await session.query<{ book: string }>('SELECT book FROM paper_books WHERE account_group = $1', [accountGroup])).rows[0]?.book ?? null,
      ),

    savePaperBook: (accountGroup, book) =>
      call(async (session) => {
        await session.query(
          'INSERT INTO paper_books (account_group, book, updated_at) VALUES ($1, $2, $3) ON CONFLICT (account_group) DO UPDATE SET book = excluded.book, updated_at = excluded.updated_at',
          [accountGroup, book, ms(now())],
        );
      }),

    getSetting: (name) =>
      call(async (session) => (await session.query<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name])).rows[0]?.value ?? null),

    setSetting: (name, value) =>
      call(async (session) => {
        await session.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
      }),

    // On a connection of its own, so a pool busy with alerts does not make the database look away;
    // health checks arriving together share one query.
    ping: async (timeoutMs) => {
      pinging ??= call(async (session) => (await session.query('SELECT 1')).rowCount === 1, timeoutMs, pingPool).finally(() => {
        pinging = null;
      });
      return Promise.race([pinging, bound(timeoutMs).then(() => false)]).catch(() => false);
    },

    close: (interrupted) =>
      (closing ??= (async () => {
        cancelFlush();
        await stopHeartbeat();
        let away = false;
        try {
          await flushWithin(flushTimeoutMs);
        } catch (error) {
          away = true;
          report(new Error(`${queue.pending} alert outcome(s) could not be written before closing: ${(error as Error).message}`, { cause: error }));
        } finally {
          cancelFlush();
          // Gone, not stopped: what it could not write is closed by the others at once, or by
          // itself when told why (a relay stopping). With the database away it stays registered,
          // and is taken for stopped after the instance timeout.
          if (!away && interrupted !== undefined) await call((session) => closeOwn(session, interrupted)).catch((error: unknown) => report(fail(error)));
          else if (!away)
            await call((session) => session.query('DELETE FROM relay_instances WHERE id = $1', [instance.id]), Math.min(callTimeoutMs, 500)).catch(
              () => undefined,
            );
          closed = true;
          // Calls still running end within their own budget; the pools wait for them, not longer.
          await Promise.race([Promise.all([pool, heartbeatPool, pingPool].map((p) => p.end().catch(() => undefined))), bound(callTimeoutMs + 100)]);
        }
      })()),
  };
}

/**
 * Connects once on a connection of its own (a migration may take longer than an alert's
 * budget), migrates, registers the instance (HEARTBEAT_STATEMENT with `register`), and answers
 * the server's synchronous_commit. Bounded by `startTimeoutMs`.
 */
async function openDatabase(base: ClientConfig, target: string, startTimeoutMs: number, secrets: readonly string[], register: unknown[]): Promise<string> {
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    const opening = (async () => {
      client = new pg.Client(base);
      client.on('error', () => undefined); // the failing query reports it
      await client.connect();
      await migrate(client, startTimeoutMs);
      await client.query(HEARTBEAT_STATEMENT, register);
      const { rows } = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      return rows[0]?.synchronous_commit ?? 'on';
    })();
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`${target}: no answer within ${startTimeoutMs} ms`)), startTimeoutMs);
    });
    opening.catch(() => undefined); // when the timer won
    return await Promise.race([opening, expired]);
  } catch (error) {
    if (error instanceof SchemaTooNewError || error instanceof StoreUnavailableError) throw error;
    const mapped = toStoreError(error, secrets);
    if (mapped instanceof StoreUnavailableError || mapped instanceof StoreBusyError) {
      const reason = mapped.message.replace(/^database (unavailable|busy): /, '');
      throw new StoreUnavailableError(`${target}: ${reason}`, { cause: mapped.cause });
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open the PostgreSQL database ${target}: ${mask(message, secrets)}`);
  } finally {
    clearTimeout(timer);
    // Bounded: a server that stopped answering must not hold the start.
    const opened = client as pg.Client | null;
    if (opened !== null) await Promise.race([opened.end().catch(() => undefined), bound(1000)]);
  }
}

/**
 * A URL pg can read, refused in words that do not repeat it (it holds the password): pg's own
 * parse error would carry the whole text.
 */
function checkDatabaseUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new Error('the database URL is not a PostgreSQL URL: expected postgres://user:password@host:5432/database');
  }
}

/** What a transaction reads under its locks besides its keys (see LOAD_STATEMENT). */
interface LoadRead {
  sender?: Strategy | null;
  fingerprint?: string | null;
  relayUser?: string | null;
  groups?: readonly string[];
}

type Loaded = LoadedKeys & { user: UserRow | null; groups: [string, string, string][] };

/** The read of a transaction's keys, a prepared statement (planned once per connection). */
function loadQuery(keys: readonly PositionKey[], read: LoadRead): QueryConfig {
  return {
    name: 'relay-load',
    text: LOAD_STATEMENT,
    values: [
      keys.map((k) => k.accountGroup),
      keys.map((k) => k.account.toLowerCase()),
      keys.map((k) => k.instrumentKey),
      read.sender?.relayUser ?? null,
      read.sender?.relayId ?? null,
      read.fingerprint ?? null,
      read.relayUser ?? null,
      read.groups ?? [],
    ],
  };
}

function writeQuery(work: KeyWork): QueryConfig {
  return work.writeQuery();
}

/** What a transaction locks: `first` (a lock only one kind of work takes, before all others), account groups whole, keys. */
interface Locks {
  first?: string;
  exclusive?: readonly string[];
  keys: readonly PositionKey[];
  /**
   * Commit without waiting for the WAL flush (synchronous_commit off for this transaction): only
   * for outcomes written after their answer, which SQLite also writes without an fsync. Lost to a
   * power cut, they leave their key in doubt, which the relay reconciles; a later synchronous
   * commit (any decision) flushes them with it, since the WAL is written in order.
   */
  unflushed?: boolean;
}

/**
 * Set on every connection of the store's pools. Its statements find rows by key, a handful at a time, and
 * are planned once per connection (force_generic_plan) on the statistics of that moment: on tables
 * still small (a new installation, the first minutes of a cluster) the cheapest plan joins an
 * alert's keys to a whole table read and hashed, and that plan then stays as the tables grow (at
 * 200 alerts/s the relay read `key_records` and `signal_log` whole for each alert). With these
 * off, the planner keeps to index lookups in nested loops, whatever the tables hold. JIT is off
 * too: a table read that no index can replace (relay_instances) carries the disabled plan's huge
 * cost, past jit_above_cost, and compiling it took longer than the store call's 1.2 s.
 * test/store/postgres/write-plan.test.ts checks the write that touches every table.
 */
export const KEY_LOOKUPS_ONLY = ['SET enable_seqscan = off', 'SET enable_hashjoin = off', 'SET enable_mergejoin = off', 'SET jit = off'];

/** BEGIN, then the advisory locks in their fixed order: `first`, account groups, then keys, each by hash. */
function beginStatement(locks: Locks, lockWaitMs: number): string {
  const exclusive = new Set((locks.exclusive ?? []).map((group) => lockId('group', group)));
  const groups = new Map<string, boolean>([...exclusive].map((id) => [id, true]));
  for (const key of locks.keys) {
    const id = lockId('group', key.accountGroup);
    if (!groups.has(id)) groups.set(id, false);
  }
  const keys = [...new Set(locks.keys.map((key) => lockId('key', keyId(key))))].sort(byValue);
  // The ids are numbers this code computed, written as literals: one round trip for all of it.
  return [
    'BEGIN',
    `SET LOCAL lock_timeout = ${Math.round(lockWaitMs)}`,
    ...(locks.unflushed === true ? ['SET LOCAL synchronous_commit = off'] : []),
    ...(locks.first === undefined ? [] : [`SELECT pg_advisory_xact_lock('${locks.first}'::bigint)`]),
    ...[...groups.keys()].sort(byValue).map((id) => `SELECT pg_advisory_xact_lock${groups.get(id) ? '' : '_shared'}('${id}'::bigint)`),
    ...keys.map((id) => `SELECT pg_advisory_xact_lock('${id}'::bigint)`),
  ].join('; ');
}

function byValue(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The user or a group the plan listed is not what the plan was given. */
function changedSincePlan(checks: Checks, loaded: { user: UserRow | null; groups: [string, string, string][] }): boolean {
  if (JSON.stringify(loaded.user) !== checks.userJson) return true;
  const now = new Map<string, PositionKey[]>([...checks.lists.keys()].map((group) => [group, []]));
  for (const [accountGroup, account, instrumentKey] of loaded.groups) now.get(accountGroup)?.push({ accountGroup, account, instrumentKey });
  return [...checks.lists].some(([group, keys]) => JSON.stringify(now.get(group)) !== JSON.stringify(keys));
}

/** PostgreSQL text cannot hold NUL: it is stored as U+FFFD (hostile alerts may carry one). */
function clean(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
  if (Array.isArray(value)) return value.map(clean);
  return value;
}

/** What must never appear in a message: the URL and its password (as written and decoded). */
function secretsOf(url: string): string[] {
  const secrets = [url];
  try {
    const { password } = new URL(url);
    if (password !== '') secrets.push(password, decodeURIComponent(password));
  } catch {
    // not a URL (a libpq key=value string?): the whole text stays masked
  }
  return secrets;
}

function mask(text: string, secrets: readonly string[]): string {
  return secrets.reduce((masked, secret) => (secret === '' ? masked : masked.split(secret).join('***')), text);
}

/** A bound on a wait raced against it: its timer keeps no process alive once everything else is done. */
function bound(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
