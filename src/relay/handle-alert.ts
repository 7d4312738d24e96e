import { createHash } from 'node:crypto';
import { classify, classifyCommand } from '../engine/classify.js';
import { type AlertVerdict, combineVerdicts } from '../engine/combine-verdicts.js';
import { explainCode, explainReason } from '../crosstrade/explain-reason.js';
import { decide, readsFirst, recordAfterRefusal, senderMarkWhenNotSent } from '../engine/decide.js';
import { recognizeRepeat } from '../engine/recognize-repeat.js';
import type { Decision, ImpliedOrder, KeyRecord, PositionReading, Signal, Verdict } from '../engine/types.js';
import { AlertParseError } from '../signal/alert-parse-error.js';
import { formatForward, removeFields } from '../signal/format-alert.js';
import { instrumentKey } from '../signal/instrument.js';
import { fieldValue, type ParsedAlert } from '../signal/parse-alert.js';
import { parseAlertBody } from '../signal/parse-alert-body.js';
import { RELAY_FIELDS, type RelayAlert, readRelayAlert } from '../signal/read-relay-alert.js';
import {
  type AlertIdentity,
  type ArbitrationDecision,
  type ArbitrationResult,
  isStoreBusyError,
  isStoreUnavailableError,
  type KeyWrite,
  type LookToken,
  StoreBusyError,
  type PositionKey,
  type SignalLogInput,
  type UserRecord,
} from '../store/store.js';
import { REMOVED, type RejectedAlert, readRejectedAlert } from './rejected-record.js';
import type { AlertBody, AlertReply, ForwardOutcome, RelayDeps } from './relay-deps.js';
import { verifyRelaySecret } from './relay-secret.js';

export type { AlertBody, AlertReply, RelayDeps } from './relay-deps.js';

/** Secrets an alert may carry: never stored or logged. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['key', 'relay_secret']);
/** The idempotency field (README, "Resends and repeats"): one value per trigger, e.g. `relay_alert_id={{timenow}}`. */
export const ALERT_ID_FIELD = 'relay_alert_id';
/** The relay's own fields, never forwarded. */
export const STRIPPED_FIELDS: ReadonlySet<string> = new Set([...RELAY_FIELDS, ALERT_ID_FIELD]);
/** An alert with an idempotency field is recognised as long as its fingerprint is kept (pruned hourly). */
const ALERT_ID_WINDOW_MS = 3_600_000;
const FLATTEN_EVERYTHING = 'FLATTENEVERYTHING';
/** A contested alert re-reads state after its API check; if it moved again, block rather than loop. */
export const MAX_READING_ROUNDS = 2;
/** Below this, a position check cannot answer in time: it is not made (the reading is unknown). */
const MIN_CHECK_MS = 50;
/** How often an alert waiting on another process's order in flight looks again (ms). */
const POLL_MS = 25;
/**
 * An alert the database could not decide is refused with a record of its refusal (read, then
 * queued) only when the failure came fast (a refused connection): a database that took this long
 * to fail is not asked again (ms).
 */
const UNAVAILABLE_READS_WITHIN_MS = 500;

/**
 * The data path of one TradingView alert: parse → classify → recognise repeats → arbitrate
 * (waiting for an in-flight order of its key, asking CrossTrade when the engine needs the account)
 * → forward → record the outcome. Every path answers with a decision and writes one signal-log row.
 * Statuses (README, "Answers"): 200 for every decision, 4xx for a rejected alert, 503 only when
 * nothing was decided (the database was busy or unavailable), so a TradingView resend never follows an order.
 */
export async function handleAlert(deps: RelayDeps, body: AlertBody): Promise<AlertReply> {
  // Counted until its outcome is handed to the store: a relay stopping waits for it (start-relay.ts),
  // even when its sender has hung up and the HTTP server no longer waits.
  const handling = handle(deps, body);
  deps.handling?.add(handling);
  try {
    return await handling;
  } finally {
    deps.handling?.delete(handling);
  }
}

async function handle(deps: RelayDeps, body: AlertBody): Promise<AlertReply> {
  const startedAt = deps.now();
  let parsed: ParsedAlert;
  let alert: RelayAlert;
  try {
    parsed = parseAlertBody(body.text, body.json);
    alert = readRelayAlert(parsed);
  } catch (error) {
    if (!(error instanceof AlertParseError)) throw error;
    // Kept with its secrets removed, under its relay_user when that was readable (issue 8, case 7).
    const relayUser = readRejectedAlert(body.text, () => null).relayUser;
    const known = relayUser === null ? null : await deps.store.getUser(relayUser);
    const rejected = readRejectedAlert(body.text, (name) => (name === known?.relayUser ? known.crosstradeKey : null));
    const reason = known === null ? error.message : withoutKey(error.message, known.crosstradeKey);
    return reject(deps, startedAt, 400, reason, rejected.text, rejected);
  }
  const storedAlert = removeFields(parsed, SECRET_FIELDS);
  let refusal: { status: number; reason: string } | null = null;
  let ctx: AlertContext | null = null;
  /** The stored alert of a refusal, without the secrets of the user it named (when there is one). */
  let refusedAlert = storedAlert;
  const contextFor = (user: UserRecord, listKeys: (accountGroup: string) => PositionKey[]): AlertContext =>
    alertContext(deps, { alert, parsed, storedAlert, user, startedAt }, listKeys);
  let first: ArbitrationResult<RoundValue> | null;
  try {
    // The user, the keys and the first decision in one transaction (issue 9).
    first = await deps.store.arbitrateAs(alert.relayUser, (user, listKeys) => {
      refusal = refuseUser(alert, user);
      if (user !== null) refusedAlert = withoutUserSecrets(storedAlert, user);
      if (refusal !== null || user === null) return null;
      ctx = contextFor(user, listKeys);
      return {
        keys: ctx.keys,
        sender: ctx.signal,
        decide: decideRound(
          ctx,
          ctx.keys.map(() => null),
          { waitExpired: false, lastRound: false },
        ),
        identity: ctx.identity,
        look: readsFirst(ctx.signal),
      };
    });
  } catch (error) {
    if (!isUndecided(error)) throw error;
    // The plan already read the user and chose the keys (before the store's transaction): the
    // refusal needs no read of a database that just failed. It is recorded once the database answers.
    const planned = ctx as AlertContext | null;
    const planRefusal = refusal as { status: number; reason: string } | null;
    if (planned !== null && planRefusal === null) return refuseUndecided(planned, error);
    // A database that did not answer in time would not answer the reads below either, and each
    // could take as long again: past TradingView's 3 s. Refused now (503 through the error handler).
    if (isStoreUnavailableError(error) && deps.now() - startedAt >= UNAVAILABLE_READS_WITHIN_MS) throw error;
    // Nothing was decided: the refusal is recorded once the database frees (a read needs no lock).
    // A database that cannot even be read answers through the error handler: 503, nothing sent.
    const user = await deps.store.getUser(alert.relayUser);
    refusal = refuseUser(alert, user);
    if (refusal !== null || user === null) {
      return reject(deps, startedAt, refusal?.status ?? 404, refusal?.reason ?? '', user === null ? storedAlert : withoutUserSecrets(storedAlert, user), alert);
    }
    const groupKeys = await deps.store.listKeys(user.accountGroup);
    return refuseUndecided(
      contextFor(user, () => groupKeys),
      error,
    );
  }
  const refused = refusal as { status: number; reason: string } | null;
  if (refused !== null || ctx === null || first === null) {
    return reject(deps, startedAt, refused?.status ?? 404, refused?.reason ?? `unknown relay_user "${alert.relayUser}"`, refusedAlert, alert);
  }
  const decided: AlertContext = ctx;
  try {
    return await arbitrateAndForward(decided, first);
  } catch (error) {
    if (!isUndecided(error)) throw error;
    // Refused on the keys the user has now, so TradingView's resend, decided there, gets its second
    // chance (FLATTENEVERYTHING's would take another read, past the 3 s: refused where it was planned).
    const listsGroup = fieldValue(parsed, 'command')?.toUpperCase() === FLATTEN_EVERYTHING;
    if (error instanceof UserChangedError && error.user !== null && refuseUser(alert, error.user) === null && !listsGroup) {
      return refuseUndecided(
        contextFor(error.user, () => []),
        error,
      );
    }
    return refuseUndecided(decided, error);
  }
}

/** A later round found its user changed since the first (see arbitrateAgain): nothing was decided. */
class UserChangedError extends StoreBusyError {
  /** @param user the user as it is now (null: removed) */
  constructor(readonly user: UserRecord | null) {
    super({ cause: new Error('the user changed while the alert was decided') });
  }
}

/** The store could not decide (busy, or unreachable): nothing was written or sent. */
function isUndecided(error: unknown): boolean {
  return isStoreBusyError(error) || isStoreUnavailableError(error);
}

/** An alert read and its user known: what it means, the keys it acts on, how its copies are recognised. */
export function alertContext(
  deps: RelayDeps,
  read: Pick<AlertContext, 'alert' | 'parsed' | 'storedAlert' | 'user' | 'startedAt'>,
  listKeys: (accountGroup: string) => PositionKey[],
): AlertContext {
  const { alert, parsed, user, startedAt } = read;
  const signal = signalOf(alert, parsed, startedAt);
  const keys = keysOf(alert, user, signal, fieldValue(parsed, 'command')?.toUpperCase() ?? null, startedAt, listKeys);
  // A paper user's orders and position checks go to the paper book; everything else is the same.
  const via = user.paper ? { ...deps, crosstrade: deps.paper } : deps;
  return { ...read, storedAlert: withoutUserSecrets(read.storedAlert, user), deps: via, signal, keys, identity: identityOf(deps, alert, parsed) };
}

/**
 * The stored alert without its user's CrossTrade key and webhook URL (or the URL's path, which holds
 * its secret) pasted into another field's text (`comment=...`): the signal log is shown in the
 * console and the management API.
 */
function withoutUserSecrets(text: string, user: UserRecord): string {
  const path = (() => {
    try {
      return new URL(user.webhookUrl).pathname;
    } catch {
      return '';
    }
  })();
  let kept = text;
  for (const secret of [user.webhookUrl, path, user.crosstradeKey].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 8) kept = kept.split(secret).join(REMOVED);
  }
  return kept;
}

/** Why an alert is refused before any decision (null: its user takes it). */
export function refuseUser(alert: RelayAlert, user: UserRecord | null): { status: number; reason: string } | null {
  if (user === null) return { status: 404, reason: `unknown relay_user "${alert.relayUser}"` };
  if (user.relaySecret === null) return null;
  if (alert.relaySecret === null) return { status: 401, reason: 'missing relay_secret: this relay_user requires one' };
  if (!verifyRelaySecret(alert.relaySecret, user.relaySecret)) return { status: 403, reason: 'wrong relay_secret' };
  return null;
}

export interface AlertContext {
  deps: RelayDeps;
  alert: RelayAlert;
  parsed: ParsedAlert;
  storedAlert: string;
  user: UserRecord;
  signal: Signal;
  startedAt: number;
  keys: PositionKey[];
  identity: AlertIdentity | null;
}

export interface RoundValue {
  combined: AlertVerdict;
  verdicts: Verdict[];
}

/** What the alert means for its keys: by its position fields, else by its command (issue 7, case 11). */
export function signalOf(alert: RelayAlert, parsed: ParsedAlert, at: number): Signal {
  const quantity = wholeNumber(fieldValue(parsed, 'qty') ?? fieldValue(parsed, 'quantity'));
  const command = fieldValue(parsed, 'command')?.toUpperCase() ?? null;
  const base = {
    relayUser: alert.relayUser,
    relayId: alert.relayId,
    quantity,
    fromSize: alert.prevMarketPositionSize,
    delayMs: delaySeconds(fieldValue(parsed, 'delay')) * 1000,
    resting: isRestingOrder(alert.orderType),
    restingForMs: alert.cancelAfterMinutes === null ? null : alert.cancelAfterMinutes * 60_000,
    instrumentReadable: alert.instrument !== null && instrumentKey(alert.instrument, new Date(at).getUTCFullYear()) !== null,
  };
  if (alert.marketPosition !== null) {
    const { type, direction } = classify(alert);
    return { ...base, type, direction, from: alert.prevMarketPosition };
  }
  // FLATTENEVERYTHING closes every position of the CrossTrade user: every key it has a record of.
  if (command === FLATTEN_EVERYTHING) return { ...base, type: 'flatten', direction: null, from: null, instrumentReadable: true };
  // Without an account and an instrument no CrossTrade order can be placed: nothing to arbitrate.
  const kind = alert.accounts.length === 0 || alert.instrument === null ? 'passthrough' : classifyCommand(command);
  const signal: Signal = { ...base, type: kind, direction: null, from: null };
  if (kind === 'flatten') {
    // CLOSESTRATEGY closes one ATM strategy's part: what is left is unknown until read.
    signal.partial = (command === 'CLOSEPOSITION' && quantity !== null) || command === 'CLOSESTRATEGY';
    signal.keepsWorkingOrders = command === 'CLOSEPOSITION';
  }
  if (kind === 'order') signal.order = { command: (command ?? 'PLACE') as ImpliedOrder['command'], action: alert.action, quantity };
  return signal;
}

/** Arbitration is per CrossTrade account group, account and product (README, "Shared accounts"). */
export function keysOf(
  alert: RelayAlert,
  user: UserRecord,
  signal: Signal,
  command: string | null,
  at: number,
  listKeys: (accountGroup: string) => PositionKey[],
): PositionKey[] {
  if (signal.type === 'passthrough') return [];
  if (command === FLATTEN_EVERYTHING) return listKeys(user.accountGroup);
  const product = instrumentKey(alert.instrument ?? '', new Date(at).getUTCFullYear());
  // An unreadable instrument keeps a key of its own; the engine refuses whatever would act on it.
  return alert.accounts.map((account) => ({ accountGroup: user.accountGroup, account, instrumentKey: product ?? (alert.instrument ?? '').toUpperCase() }));
}

/** The same body from the same strategy is one alert; its copies are recognised (issue 7, cases 1-3). */
export function identityOf(deps: Pick<RelayDeps, 'dedupWindowMs'>, alert: RelayAlert, parsed: ParsedAlert): AlertIdentity | null {
  const hasAlertId = fieldValue(parsed, ALERT_ID_FIELD) !== undefined;
  if (deps.dedupWindowMs === 0 && !hasAlertId) return null;
  // Over the fields, not the bytes: a copy that gained a trailing newline or lost a space on the way is the same alert.
  const fields = parsed.fields.map((f) => `${f.key}=${f.value}`).join('\n');
  const fingerprint = createHash('sha256').update(`${alert.relayUser}\0${alert.relayId}\0${fields}`).digest('base64url');
  return { fingerprint, relayUser: alert.relayUser, relayId: alert.relayId, windowMs: hasAlertId ? ALERT_ID_WINDOW_MS : deps.dedupWindowMs };
}

async function arbitrateAndForward(ctx: AlertContext, first: ArbitrationResult<RoundValue>): Promise<AlertReply> {
  const { deps, keys, alert, user } = ctx;
  const { outboundMs, forwardTimeoutMs } = deps.budget;
  // The forward must still fit after any wait or check (docs/external-systems.md §1.1).
  const sendBy = ctx.startedAt + outboundMs - forwardTimeoutMs;
  const readings: (PositionReading | null)[] = keys.map(() => null);
  let readingRounds = 0;
  let waitExpired = false;
  let firstRound: ArbitrationResult<RoundValue> | null = first;
  // The look the round before asked for the readings from: this round may be decided on it.
  let after: LookToken | undefined;
  for (;;) {
    const lastRound = readingRounds >= MAX_READING_ROUNDS;
    // With no reading yet (the first round waited), the round most likely asks for one again.
    const look = readings.every((reading) => reading === null) && readsFirst(ctx.signal);
    const result = firstRound ?? (await arbitrateAgain(ctx, decideRound(ctx, readings, { waitExpired, lastRound }), look, after));
    firstRound = null;
    after = undefined;
    const { combined, verdicts } = result.value;
    if (combined.action === 'wait') {
      if (deps.now() >= sendBy) waitExpired = true;
      else await waitForKeys(deps, keys, sendBy);
      // A reading taken before the order in flight was answered says nothing about after it.
      readings.fill(null);
      readingRounds = 0;
      continue;
    }
    if (combined.action === 'needs-reading') {
      readingRounds += 1;
      after = result.look;
      const timeoutMs = Math.min(deps.budget.apiTimeoutMs, sendBy - deps.now());
      await Promise.all(
        verdicts.map(async (verdict, i) => {
          if (verdict.action !== 'needs-reading') return;
          readings[i] =
            timeoutMs < MIN_CHECK_MS
              ? { kind: 'unknown', takenAt: deps.now(), reason: 'no time left for a position check' }
              : // Never an answer asked for before this alert arrived: a close outside the relay may lie between.
                await deps.crosstrade.readPosition(keys[i]?.account ?? '', alert.instrument ?? '', user.crosstradeKey, timeoutMs, ctx.startedAt);
        }),
      );
      continue;
    }
    if (combined.action === 'forward') return forwardAndRecord(ctx, result.logId ?? 0, result.versions, verdicts, combined.reason);
    // Answered once the decision is on disk, like a forward: the answer says it was taken.
    await deps.store.sync().catch((error: unknown) => deps.logger.error({ err: error }, 'the database could not be synced to disk'));
    return reply(ctx, 200, combined.action === 'drop' ? 'dropped' : 'blocked', combined.reason);
  }
}

/**
 * A later round of an alert (after a wait or a CrossTrade check), decided only on the user its first
 * round was planned with. A user changed meanwhile (a new key moved its positions to another account
 * group, paper and live swapped, removed or added again) leaves this alert's keys and CrossTrade key
 * stale: decided on them, a contested entry meets an emptied old group and is sent with the old key
 * (a doubled position). Then nothing is decided or sent: busy (503), and TradingView's resend is
 * decided on the user as it is.
 * @throws UserChangedError (a StoreBusyError) when the user changed since the first round; store errors as thrown
 */
async function arbitrateAgain(
  ctx: AlertContext,
  decide: ArbitrationDecision<RoundValue>,
  look: boolean,
  after: LookToken | undefined,
): Promise<ArbitrationResult<RoundValue>> {
  const result = await ctx.deps.store.arbitrateAs(ctx.alert.relayUser, (user) => {
    if (user === null || !sameUser(user, ctx.user)) throw new UserChangedError(user);
    return { keys: ctx.keys, sender: ctx.signal, decide, identity: ctx.identity, look, ...(after === undefined ? {} : { after }) };
  });
  // Not reached: the plan above never decides nothing.
  if (result === null) throw new StoreBusyError({ cause: new Error('the user changed while the alert was decided') });
  return result;
}

function sameUser(a: UserRecord, b: UserRecord): boolean {
  return (
    a.crosstradeKey === b.crosstradeKey &&
    a.webhookUrl === b.webhookUrl &&
    a.accountGroup === b.accountGroup &&
    a.paper === b.paper &&
    a.relaySecret === b.relaySecret &&
    a.createdAt === b.createdAt
  );
}

/**
 * One pass of the pure engine inside the store's transaction: repeats first, then every key's
 * verdict, combined into one for the alert, with the writes, the marks and the signal-log row.
 */
export function decideRound(
  ctx: AlertContext,
  readings: readonly (PositionReading | null)[],
  round: { waitExpired: boolean; lastRound: boolean },
): ArbitrationDecision<RoundValue> {
  const { deps, alert, signal, identity, keys } = ctx;
  const instrument = alert.instrument ?? '';
  return (views, earlier) => {
    const now = deps.now();
    const nothing = keys.map(() => null);
    if (identity !== null) {
      const repeat = recognizeRepeat(
        {
          earlier,
          lastOnEveryKey: views.every((v) => v.sender.lastFingerprint === identity.fingerprint),
          hasAlertId: identity.windowMs === ALERT_ID_WINDOW_MS,
        },
        deps.dedupWindowMs / 1000,
      );
      if (repeat.kind === 'duplicate' || repeat.kind === 'stale-resend') {
        const combined: AlertVerdict = { action: 'drop', reason: repeat.reason };
        return { value: { combined, verdicts: [] }, writes: nothing, seen: false, log: logEntry(ctx, 'dropped', repeat.reason, null) };
      }
    }
    const verdicts = views.map((view, i) =>
      decide(view.record, signal, readings[i] ?? null, {
        now,
        settings: deps.settings,
        sender: { holdsNothing: view.sender.holdsNothing },
        waitExpired: round.waitExpired,
      }),
    );
    let combined: AlertVerdict =
      keys.length === 0
        ? { action: 'forward', reason: 'passthrough: no effect on a position' }
        : combineVerdicts(verdicts.map((verdict, i) => ({ account: keys[i]?.account ?? '', verdict })));
    if (combined.action === 'needs-reading' && round.lastRound) {
      combined = { action: 'block', reason: `position changed during the CrossTrade check: ${combined.reason}` };
    }
    const value: RoundValue = { combined, verdicts };
    if (combined.action === 'wait' || combined.action === 'needs-reading') return { value, writes: nothing, seen: false, log: null };

    const apiCheck = describeReadings(readings);
    if (combined.action === 'forward') {
      const writes = verdicts.map((v, i): KeyWrite | null =>
        v.action === 'forward' && v.send.record !== views[i]?.record ? { record: v.send.record, marks: v.send.marks, instrument } : null,
      );
      // The row is written now as pending, before the order leaves; completed after.
      return { value, writes, seen: true, log: logEntry(ctx, 'pending', combined.reason, apiCheck) };
    }
    const action = combined.action;
    const writes = verdicts.map((v, i): KeyWrite | null => {
      if ((v.action === 'block' || v.action === 'drop') && v.send !== null) {
        // A mark alone must not rewrite the record: a new version would void the outcome of an order in flight.
        return { record: v.send.record === views[i]?.record ? null : v.send.record, marks: v.send.marks, instrument };
      }
      // Another account refused the alert: on this one too its sender holds what it held before.
      const mark = v.action === 'block' || v.action === 'drop' ? null : senderMarkWhenNotSent(views[i]?.record ?? { owner: null, doubt: null }, signal, action);
      return mark === null ? null : { record: null, marks: [mark], instrument };
    });
    return { value, writes, seen: true, log: logEntry(ctx, action === 'drop' ? 'dropped' : 'blocked', combined.reason, apiCheck) };
  };
}

/** Waits until the in-flight orders of these keys (this process's) are answered, another process's for a poll, or the deadline. */
async function waitForKeys(deps: RelayDeps, keys: PositionKey[], until: number): Promise<void> {
  const local = keys.flatMap((key) => deps.inFlight.get(inFlightId(key)) ?? []);
  const remaining = Math.max(0, until - deps.now());
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, local.length > 0 ? remaining : Math.min(POLL_MS, remaining));
  });
  await Promise.race([Promise.all(local), deadline]);
  clearTimeout(timer);
}

function inFlightId(key: PositionKey): string {
  return `${key.accountGroup}\0${key.account.toLowerCase()}\0${key.instrumentKey}`;
}

async function forwardAndRecord(ctx: AlertContext, logId: number, versions: (number | null)[], verdicts: Verdict[], reason: string): Promise<AlertReply> {
  const { deps, keys } = ctx;
  let settled = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    settled = resolve;
  });
  const ids = keys.map(inFlightId);
  for (const id of ids) deps.inFlight.set(id, done);
  try {
    // The decision must survive a power cut before its order leaves (issue 9): a relay that
    // forgot an owner whose order went out would let another strategy stack on it.
    const syncStartedAt = deps.now();
    const durable = await deps.store.sync().then(
      () => true,
      (error: unknown) => {
        deps.logger.error({ err: error }, 'the database could not be synced to disk: order not sent');
        return false;
      },
    );
    // The engine timed the holds from the decision, as if the order left then; the order leaves after
    // the sync, so they start that much later ("the hold starts when the order is sent", config.ts):
    // a disk that stalls must not leave the order's fill lag unprotected.
    const syncMs = Math.max(0, deps.now() - syncStartedAt);
    // A disk that stalled past the moment the forward still fits in TradingView's 3 s: not sent,
    // so the answer keeps its bound and nothing leaves on a decision that old.
    const late = durable && deps.now() > ctx.startedAt + deps.budget.outboundMs - deps.budget.forwardTimeoutMs;
    if (late) deps.logger.error({ sync_ms: syncMs }, 'the database took too long to sync to disk: order not sent');
    const outcome: ForwardOutcome = !durable
      ? { ok: false, ambiguous: false, reason: 'database-sync-failed', status: null }
      : late
        ? { ok: false, ambiguous: false, reason: 'database-sync-too-slow', status: null }
        : await deps.crosstrade.forward(ctx.user.webhookUrl, formatForward(ctx.parsed, ctx.user.crosstradeKey, STRIPPED_FIELDS));
    for (const account of ctx.alert.accounts) deps.crosstrade.forget(account, ctx.user.crosstradeKey);
    const latencyMs = deps.now() - ctx.startedAt;
    const result = outcome.ok ? 'delivered' : outcome.ambiguous ? 'unknown' : 'refused';
    const decision: Decision = outcome.ok ? 'forwarded' : outcome.ambiguous ? 'unknown' : 'failed';
    const why = outcome.ok
      ? reason
      : outcome.ambiguous
        ? `outcome-unknown: ${outcome.reason}; the order may have reached CrossTrade: the next alert of this position is checked against CrossTrade`
        : `forward-failed: ${outcome.reason}; nothing was placed`;
    // The order has gone (or definitely not): from here the answer is the true outcome, never a
    // 5xx, since TradingView would send it again (docs/external-systems.md §1.1). The store retries the write.
    deps.store.settle({
      keys: keys.map((key, i) => {
        const verdict = verdicts[i];
        const chosen = verdict?.action === 'forward' ? verdict[result] : { record: null, marks: [] };
        return {
          key,
          version: versions[i] ?? null,
          write: { record: later(chosen.record, syncMs), marks: chosen.marks, instrument: ctx.alert.instrument ?? '' },
        };
      }),
      log: { id: logId, outcome: { decision, reason: why, upstreamStatus: outcome.status, latencyMs } },
    });
    if (!outcome.ok) {
      const explanation = explainCode(outcome.reason) ?? outcome.reason;
      deps.logger.error(
        { relay_user: ctx.alert.relayUser, relay_id: ctx.alert.relayId, decision, reason: why, upstream_status: outcome.status, explanation },
        `forward to CrossTrade failed: ${explanation}`,
      );
    }
    return reply(ctx, 200, decision, why);
  } finally {
    for (const id of ids) if (deps.inFlight.get(id) === done) deps.inFlight.delete(id);
    settled();
  }
}

/** The record with its hold, its doubt and its closing grace starting `ms` later (null stays null: nothing to write). */
function later(record: KeyRecord | null, ms: number): KeyRecord | null {
  if (record === null || ms === 0) return record;
  return {
    ...record,
    owner: record.owner === null ? null : { ...record.owner, holdUntil: record.owner.holdUntil + ms },
    doubt: record.doubt === null ? null : { ...record.doubt, since: record.doubt.since + ms },
    ...(record.closingUntil === undefined ? {} : { closingUntil: record.closingUntil + ms }),
  };
}

/** The database was held by another writer, or could not be reached: nothing was decided or sent. The refusal is recorded once it frees. */
function refuseUndecided(ctx: AlertContext, error: unknown): AlertReply {
  const { deps, signal } = ctx;
  const cause = isStoreBusyError(error) ? 'database busy' : 'database unavailable';
  const reason = `${cause}: nothing was decided or forwarded`;
  const mark = senderMarkWhenNotSent({ owner: null, doubt: null }, signal, 'block');
  const at = deps.now();
  deps.store.recordRefusal({
    keys: ctx.keys,
    marks: mark === null ? [] : [mark],
    record: (record) => recordAfterRefusal(record, signal, at),
    identity: ctx.identity,
    log: logEntry(ctx, 'blocked', reason, null),
  });
  deps.logger.error({ err: error, relay_user: ctx.alert.relayUser, relay_id: ctx.alert.relayId }, `${cause}: alert not processed`);
  // 503: nothing left the relay, so TradingView's resend 5 s later is a harmless second chance.
  return reply(ctx, 503, 'blocked', reason);
}

function reply(ctx: AlertContext, status: number, decision: Decision, reason: string): AlertReply {
  const { alert, signal } = ctx;
  const latencyMs = ctx.deps.now() - ctx.startedAt;
  // The decision is already in the signal log; its log line is written once the answer is on its
  // way, so TradingView's reply does not wait for the log formatting (bench/RESULTS.md).
  const line = {
    relay_user: alert.relayUser,
    relay_id: alert.relayId,
    account: alert.accounts.join(',') || null,
    instrument: alert.instrument,
    signal_type: signal.type,
    decision,
    reason,
    latency_ms: latencyMs,
  };
  // A forward that failed or may have failed is an error; a block, or a position possibly left open, a warning.
  const level =
    decision === 'unknown' || decision === 'failed'
      ? 'error'
      : decision === 'blocked' || reason.includes('check the position in NinjaTrader')
        ? 'warn'
        : 'info';
  ctx.deps.notifier?.alertDecided({
    time: ctx.startedAt,
    relayUser: alert.relayUser,
    relayId: alert.relayId,
    account: line.account,
    instrument: alert.instrument,
    signalType: signal.type,
    decision,
    reason,
  });
  setImmediate(() => {
    try {
      // CrossTrade's answers in words (issue 8, case 8); the reason keeps the codes.
      const explanation = explainReason(reason);
      if (explanation === null) ctx.deps.decisionLogger[level](line, `alert ${decision}`);
      else ctx.deps.decisionLogger[level]({ ...line, explanation }, `alert ${decision}: ${explanation}`);
    } catch {
      // The log was closed by a shutdown racing this line: the signal log has the decision.
    }
  });
  return { status, body: { decision, signal_type: signal.type, reason } };
}

async function reject(
  deps: RelayDeps,
  startedAt: number,
  status: number,
  reason: string,
  storedAlert: string,
  alert?: RelayAlert | RejectedAlert,
): Promise<AlertReply> {
  const latencyMs = deps.now() - startedAt;
  await deps.store.appendLog({
    time: startedAt,
    relayUser: alert?.relayUser ?? null,
    relayId: alert?.relayId ?? null,
    account: alert?.accounts.join(',') || null,
    instrument: alert?.instrument ?? null,
    signalType: null,
    decision: 'rejected',
    reason,
    apiCheck: null,
    upstreamStatus: null,
    latencyMs,
    alert: storedAlert,
  });
  deps.logger.warn(
    { relay_user: alert?.relayUser ?? null, relay_id: alert?.relayId ?? null, decision: 'rejected', reason, latency_ms: latencyMs },
    'alert rejected',
  );
  deps.notifier?.alertDecided({
    time: startedAt,
    relayUser: alert?.relayUser ?? null,
    relayId: alert?.relayId ?? null,
    account: alert?.accounts.join(',') || null,
    instrument: alert?.instrument ?? null,
    signalType: null,
    decision: 'rejected',
    reason,
  });
  return { status, body: { decision: 'rejected', signal_type: null, reason } };
}

function logEntry(ctx: AlertContext, decision: SignalLogInput['decision'], reason: string, apiCheck: string | null): SignalLogInput {
  const { alert } = ctx;
  return {
    time: ctx.startedAt,
    relayUser: alert.relayUser,
    relayId: alert.relayId,
    account: alert.accounts.join(',') || null,
    instrument: alert.instrument,
    signalType: ctx.signal.type,
    decision,
    reason,
    apiCheck,
    upstreamStatus: null,
    latencyMs: decision === 'pending' ? null : ctx.deps.now() - ctx.startedAt,
    alert: ctx.storedAlert,
  };
}

function describeReadings(readings: readonly (PositionReading | null)[]): string | null {
  const parts = readings.flatMap((r) => (r === null ? [] : [r.kind === 'flat' ? 'flat' : r.kind === 'open' ? `open: ${r.detail}` : `failed: ${r.reason}`]));
  return parts.length === 0 ? null : parts.join('; ');
}

/** CrossTrade's `delay` (float seconds, max 60, docs/external-systems.md §2.5); an unreadable value counts as the maximum. */
function delaySeconds(text: string | undefined): number {
  if (text === undefined) return 0;
  const seconds = Number(text);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 60) : 60;
}

function wholeNumber(text: string | undefined): number | null {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return n > 0 && Number.isSafeInteger(n) ? n : null;
}

/** LIMIT and STOP orders can rest unfilled while the API reads the position unchanged. */
export function isRestingOrder(orderType: string | null): boolean {
  return orderType !== null && orderType !== 'MARKET' && orderType !== 'MKT';
}

/**
 * A parse error's message without the user's CrossTrade key, pasted into the field it quotes: in
 * full, or cut where a quote ends (`"ct-abc…"`, its first characters are secret too). The message
 * goes to TradingView, the signal log and the notifications.
 */
function withoutKey(message: string, key: string): string {
  if (key.length < 8) return message;
  return message
    .split(key)
    .join(REMOVED)
    .replace(/"([^"]{8,})…"/g, (quote, shown: string) => (key.startsWith(shown) ? `"${REMOVED}"` : quote));
}
