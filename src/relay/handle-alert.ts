import { createHash } from 'node:crypto';
import { classify } from '../engine/classify.js';
import { combineVerdicts, type AlertVerdict } from '../engine/combine-verdicts.js';
import { decide, senderBlockedAfter } from '../engine/decide.js';
import type { Decision, PositionReading, Signal, SignalType, Verdict } from '../engine/types.js';
import { AlertParseError } from '../signal/alert-parse-error.js';
import { formatForward, removeFields } from '../signal/format-alert.js';
import { instrumentKey } from '../signal/instrument.js';
import { parseAlertJsonText, parseAlertText, type ParsedAlert } from '../signal/parse-alert.js';
import { RELAY_FIELDS, readRelayAlert, type RelayAlert } from '../signal/read-relay-alert.js';
import type { ArbitrationDecision, ArbitrationResult, DedupCheck, KeyChange, PositionKey, SignalLogInput, UserRecord } from '../store/store.js';
import { rejectedRecord } from './rejected-record.js';
import type { AlertBody, AlertReply, RelayDeps } from './relay-deps.js';
import { verifyRelaySecret } from './relay-secret.js';

export type { AlertBody, AlertReply, RelayDeps } from './relay-deps.js';

/** Secrets an alert may carry: never stored or logged. */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['key', 'relay_secret']);
/** A contested alert re-reads state after its API check; if it moved again, block rather than loop. */
const MAX_ROUNDS = 2;

/**
 * The data path of one TradingView alert: parse → classify → arbitrate (asking CrossTrade
 * only when an entry would otherwise be blocked) → forward → record the outcome.
 * Every path answers with a decision and writes one signal-log row.
 */
export async function handleAlert(deps: RelayDeps, body: AlertBody): Promise<AlertReply> {
  const startedAt = deps.now();
  let parsed: ParsedAlert;
  let alert: RelayAlert;
  try {
    parsed = body.json ? parseAlertJsonText(body.text) : parseAlertText(body.text);
    alert = readRelayAlert(parsed);
  } catch (error) {
    if (!(error instanceof AlertParseError)) throw error;
    return reject(deps, startedAt, 400, error.message, describeUnreadable(body));
  }
  const storedAlert = removeFields(parsed, SECRET_FIELDS);
  const user = deps.store.getUser(alert.relayUser);
  if (user === null) {
    return reject(deps, startedAt, 404, `unknown relay_user "${alert.relayUser}"`, storedAlert, alert);
  }
  if (user.relaySecret !== null) {
    if (alert.relaySecret === null) return reject(deps, startedAt, 401, 'missing relay_secret: this relay_user requires one', storedAlert, alert);
    if (!verifyRelaySecret(alert.relaySecret, user.relaySecret)) return reject(deps, startedAt, 403, 'wrong relay_secret', storedAlert, alert);
  }
  const classification = classify(alert);
  const signal: Signal = {
    type: classification.type,
    relayId: alert.relayId,
    direction: classification.direction,
    from: alert.prevMarketPosition,
    resting: isRestingOrder(alert.orderType),
    restingForMs: alert.cancelAfterMinutes === null ? null : alert.cancelAfterMinutes * 60_000,
  };
  const dedup: DedupCheck = { fingerprint: fingerprintOf(alert, parsed), windowMs: deps.dedupWindowMs };
  const context: AlertContext = { deps, alert, parsed, storedAlert, user, signal, startedAt, dedup };
  return arbitrateAndForward(context);
}

/** TradingView may deliver one alert twice; the same body from the same strategy is one alert. */
function fingerprintOf(alert: RelayAlert, parsed: ParsedAlert): string {
  return createHash('sha256').update(`${alert.relayUser}\0${alert.relayId}\0${parsed.text}`).digest('base64url');
}

interface ArbitrationValue {
  combined: AlertVerdict;
  verdicts: { account: string; verdict: Verdict }[];
}

interface AlertContext {
  deps: RelayDeps;
  alert: RelayAlert;
  parsed: ParsedAlert;
  storedAlert: string;
  user: UserRecord;
  signal: Signal;
  startedAt: number;
  dedup: DedupCheck;
}

async function arbitrateAndForward(ctx: AlertContext): Promise<AlertReply> {
  const { deps, alert, signal } = ctx;
  const referenceYear = new Date(ctx.startedAt).getUTCFullYear();
  const product = instrumentKey(alert.instrument ?? '', referenceYear);
  // A passthrough touches no ownership: it is arbitrated on no key (only the duplicate check applies).
  const keys: PositionKey[] = (signal.type === 'passthrough' ? [] : alert.accounts).map((account) => ({
    relayUser: alert.relayUser,
    account,
    // An unreadable instrument keeps a key of its own so exits still find their owner;
    // entries on it are blocked below, since no CrossTrade check could ever clear them.
    instrumentKey: product ?? (alert.instrument ?? '').toUpperCase(),
  }));
  const unreadable = product === null && OPENS_EXPOSURE.has(signal.type);
  const readings: (PositionReading | null)[] = keys.map(() => null);

  for (let round = 1; ; round++) {
    const lastRound = round === MAX_ROUNDS;
    const result = deps.store.arbitrate<ArbitrationValue>(keys, decideRound(ctx, keys, readings, { unreadable, lastRound }), ctx.dedup);
    const { combined, verdicts } = result.value;
    if (combined.action === 'needs-reading') {
      await Promise.all(
        verdicts.map(async ({ verdict }, i) => {
          if (verdict.action === 'needs-reading')
            readings[i] = await deps.crosstrade.readPosition(keys[i]!.account, alert.instrument ?? '', ctx.user.crosstradeKey);
        }),
      );
      continue;
    }
    if (combined.action === 'forward') return forwardAndRecord(ctx, keys, result, combined.reason);
    return reply(ctx, 200, finalDecision(combined), combined.reason);
  }
}

/**
 * One pass of the pure engine inside the store's transaction: every key's verdict, combined into
 * one for the alert, with the ownership changes, the sender's blocked mark and the signal-log row.
 */
function decideRound(
  ctx: AlertContext,
  keys: PositionKey[],
  readings: readonly (PositionReading | null)[],
  round: { unreadable: boolean; lastRound: boolean },
): ArbitrationDecision<ArbitrationValue> {
  const { deps, alert, signal } = ctx;
  return (current, { duplicate }) => {
    const now = deps.now();
    const verdicts = keys.map((key, i) => ({
      account: key.account,
      verdict: decide(current[i]?.owner ?? null, signal, readings[i] ?? null, now, deps.settings, current[i]?.blocked.has(signal.relayId) ?? false),
    }));
    let combined: AlertVerdict =
      signal.type === 'passthrough' ? { action: 'forward', reason: 'passthrough: no market position fields' } : combineVerdicts(verdicts);
    if (round.unreadable) combined = { action: 'block', reason: `instrument-unreadable: "${alert.instrument}" is not an instrument name the relay can check` };
    if (duplicate) combined = { action: 'drop', reason: `duplicate: the same alert from ${alert.relayId} arrived within ${deps.dedupWindowMs / 1000} s` };
    if (combined.action === 'needs-reading' && round.lastRound) {
      combined = { action: 'block', reason: `position changed during the CrossTrade check: ${combined.reason}` };
    }
    const value: ArbitrationValue = { combined, verdicts };
    if (combined.action === 'needs-reading') return { value, changes: keys.map(keepChange), log: null };

    const forwarded = combined.action === 'forward';
    const decision = forwarded ? 'forwarded' : finalDecision(combined);
    const blocked = duplicate ? null : senderBlockedAfter(signal.type, decision);
    return {
      value,
      changes: forwarded ? verdicts.map((v) => toKeyChange(v.verdict, alert)) : keys.map(keepChange),
      mark: blocked === null ? null : { relayId: signal.relayId, blocked },
      // A forward's row is written now as pending, before the order leaves; completed after.
      log: logEntry(ctx, forwarded ? 'pending' : decision, combined.reason, describeReadings(readings)),
    };
  };
}

/** Signal types whose forward can open or add exposure. */
const OPENS_EXPOSURE: ReadonlySet<SignalType> = new Set(['entry', 'reversal', 'add']);

async function forwardAndRecord(ctx: AlertContext, keys: PositionKey[], arbitration: ArbitrationResult<unknown>, reason: string): Promise<AlertReply> {
  const { deps, signal } = ctx;
  const logId = arbitration.logId!;
  const outgoing = formatForward(ctx.parsed, ctx.user.crosstradeKey, RELAY_FIELDS);
  const outcome = await deps.crosstrade.forward(ctx.user.webhookUrl, outgoing);
  const latencyMs = deps.now() - ctx.startedAt;
  const failure = outcome.ok ? null : `forward-failed: ${outcome.reason}${outcome.ambiguous ? ' (the order may have reached CrossTrade; ownership kept)' : ''}`;
  // The order has gone (or definitely not): from here TradingView gets the true outcome even if
  // recording it fails, since "send again" could place it twice.
  try {
    if (outcome.ok) {
      // Only a delivered exit ends its ownership (unless its key was written again meanwhile).
      deps.store.finishClears(arbitration.pendingClears);
    } else if (!outcome.ambiguous) {
      // It never reached NinjaTrader: undo the claim; the strategy now holds no position here.
      const blocked = senderBlockedAfter(signal.type, 'failed-definitely') === true;
      deps.store.undo(arbitration.written, blocked ? { keys, relayId: signal.relayId } : undefined);
    }
    // An ambiguous failure may have reached NinjaTrader: the claim stays, and an exit keeps its owner.
    deps.store.completeLog(logId, {
      decision: outcome.ok ? 'forwarded' : 'failed',
      reason: failure ?? reason,
      upstreamStatus: outcome.status,
      latencyMs,
    });
  } catch (error) {
    deps.logger.error({ err: error, relay_user: ctx.alert.relayUser, relay_id: signal.relayId }, 'could not record the outcome of a forward');
  }
  return failure === null ? reply(ctx, 200, 'forwarded', reason) : reply(ctx, 502, 'failed', failure);
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
  setImmediate(() => {
    try {
      ctx.deps.decisionLogger.info(line, `alert ${decision}`);
    } catch {
      // The log was closed by a shutdown racing this line: the signal log has the decision.
    }
  });
  return { status, body: { decision, signal_type: signal.type, reason } };
}

function reject(deps: RelayDeps, startedAt: number, status: number, reason: string, storedAlert: string, alert?: RelayAlert): AlertReply {
  const latencyMs = deps.now() - startedAt;
  deps.store.appendLog({
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
  return { status, body: { decision: 'rejected', signal_type: null, reason } };
}

function describeUnreadable(body: AlertBody): string {
  return rejectedRecord('unreadable alert', Buffer.byteLength(body.text));
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

function toKeyChange(verdict: Verdict, alert: RelayAlert): KeyChange {
  if (verdict.action !== 'forward' || verdict.change.kind === 'keep') return { kind: 'keep' };
  if (verdict.change.kind === 'clear') return { kind: 'clear' };
  const { ownership, displaced } = verdict.change;
  return { kind: 'set', ownership, instrument: alert.instrument ?? '', ...(displaced ? { displaced } : {}) };
}

function keepChange(): KeyChange {
  return { kind: 'keep' };
}

function finalDecision(verdict: AlertVerdict): 'dropped' | 'blocked' {
  return verdict.action === 'drop' ? 'dropped' : 'blocked';
}

function describeReadings(readings: readonly (PositionReading | null)[]): string | null {
  const parts = readings.flatMap((r) => (r === null ? [] : [r.kind === 'flat' ? 'flat' : r.kind === 'open' ? `open: ${r.detail}` : `failed: ${r.reason}`]));
  return parts.length === 0 ? null : parts.join('; ');
}

/** LIMIT and STOP entries can rest unfilled while the API reads flat (issue: resting orders). */
export function isRestingOrder(orderType: string | null): boolean {
  return orderType !== null && orderType !== 'MARKET' && orderType !== 'MKT';
}
