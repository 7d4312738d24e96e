// `trade-relay test-alert`: an alert read exactly as handleAlert reads it (the same parsing,
// classification, keys, repeats and engine round, from handle-alert.ts), decided against the stored
// record, but nothing is written, forwarded or logged. Issue 8, "Try an alert without trading".
import type { PositionReading, Signal, SignalType } from '../engine/types.js';
import { maskSecret, maskUrl } from '../http/mask.js';
import { AlertParseError } from '../signal/alert-parse-error.js';
import { formatForward, removeFields } from '../signal/format-alert.js';
import type { ParsedAlert } from '../signal/parse-alert.js';
import { parseAlertBody } from '../signal/parse-alert-body.js';
import { type RelayAlert, readRelayAlert } from '../signal/read-relay-alert.js';
import type { PositionKey } from '../store/store.js';
import {
  type AlertContext,
  alertContext,
  decideRound,
  refuseUser,
  MAX_READING_ROUNDS,
  type RoundValue,
  SECRET_FIELDS,
  STRIPPED_FIELDS,
} from './handle-alert.js';
import type { AlertBody, RelayDeps } from './relay-deps.js';

export type PreviewDecision =
  | { kind: 'decided'; decision: 'forwarded' | 'blocked' | 'dropped'; reason: string }
  | { kind: 'needs-reading'; reason: string }
  | { kind: 'wait'; reason: string };

export type AlertPreview =
  | { kind: 'rejected'; status: number; reason: string; relayUser: string | null; relayId: string | null }
  | {
      kind: 'read';
      relayUser: string;
      relayId: string;
      paper: boolean;
      signalType: SignalType;
      signal: Signal;
      keys: PositionKey[];
      /** The text that would be POSTed, with the CrossTrade key masked. */
      forward: string;
      /** The webhook URL, origin only. */
      webhookUrl: string;
      decision: PreviewDecision;
      /** What the position checks read ("flat", "open: Long 1 ES 03-26", "failed: ..."), when one was made. */
      readings: string[];
    };

/**
 * What the relay would do with this alert now. With `read`, a position check the decision needs is
 * made (CrossTrade's API, or the paper book of a paper user): it reads, it never places an order.
 * Never writes to the store (its arbitration round writes nothing), never forwards.
 */
export async function previewAlert(deps: RelayDeps, body: AlertBody, options: { read: boolean }): Promise<AlertPreview> {
  const startedAt = deps.now();
  let parsed: ParsedAlert;
  let alert: RelayAlert;
  try {
    parsed = parseAlertBody(body.text, body.json);
    alert = readRelayAlert(parsed);
  } catch (error) {
    if (!(error instanceof AlertParseError)) throw error;
    return { kind: 'rejected', status: 400, reason: error.message, relayUser: null, relayId: null };
  }
  const _rejected = (status: number, reason: string): AlertPreview => ({
    kind: 'rejected',
    status,
    reason,
    relayUser: alert.relayUser,
    relayId: alert.relayId,
  });
  const user = await deps.store.getUser(alert.relayUser);
  const refusal = refuseUser(alert, user);
  if (refusal !== null || user === null)
    return { kind: 'rejected', relayUser: alert.relayUser, relayId: alert.relayId, status: refusal?.status ?? 404, reason: refusal?.reason ?? '' };
  // Read before: alertContext takes the keys of a FLATTENEVERYTHING synchronously, as inside the relay's transaction.
  const groupKeys = await deps.store.listKeys(user.accountGroup);
  const ctx = alertContext(deps, { alert, parsed, storedAlert: removeFields(parsed, SECRET_FIELDS), user, startedAt }, () => groupKeys);
  const { signal } = ctx;
  const readings: (PositionReading | null)[] = ctx.keys.map(() => null);
  const decision = await decideWithoutWriting(ctx, readings, options.read);
  return {
    kind: 'read',
    relayUser: alert.relayUser,
    relayId: alert.relayId,
    paper: user.paper,
    signalType: signal.type,
    signal,
    keys: ctx.keys,
    forward: formatForward(parsed, maskSecret(user.crosstradeKey), STRIPPED_FIELDS),
    webhookUrl: maskUrl(user.webhookUrl),
    decision,
    readings: readings.flatMap((r) => (r === null ? [] : [r.kind === 'flat' ? 'flat' : r.kind === 'open' ? `open: ${r.detail}` : `failed: ${r.reason}`])),
  };
}

async function decideWithoutWriting(ctx: AlertContext, readings: (PositionReading | null)[], read: boolean): Promise<PreviewDecision> {
  const { deps, keys } = ctx;
  for (let round = 0; ; round++) {
    const decide = decideRound(ctx, readings, { waitExpired: false, lastRound: round >= MAX_READING_ROUNDS });
    // The same round the relay runs, inside the same kind of transaction, with every write dropped.
    const { combined, verdicts } = (
      await deps.store.arbitrate<RoundValue>(
        keys,
        ctx.signal,
        (views, earlier) => ({ value: decide(views, earlier).value, writes: keys.map(() => null), seen: false, log: null }),
        ctx.identity,
      )
    ).value;
    if (combined.action === 'wait') return { kind: 'wait', reason: combined.reason };
    if (combined.action === 'needs-reading') {
      if (!read) return { kind: 'needs-reading', reason: combined.reason };
      await Promise.all(
        verdicts.map(async (verdict, i) => {
          if (verdict.action !== 'needs-reading') return;
          readings[i] = await deps.crosstrade.readPosition(keys[i]?.account ?? '', ctx.alert.instrument ?? '', ctx.user.crosstradeKey);
        }),
      );
      continue;
    }
    const decision = combined.action === 'forward' ? 'forwarded' : combined.action === 'drop' ? 'dropped' : 'blocked';
    return { kind: 'decided', decision, reason: combined.reason };
  }
}
