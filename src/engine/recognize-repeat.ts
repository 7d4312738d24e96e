/** What the relay knows about an earlier copy of an alert (same relay_user, relay_id and body). */
export interface RepeatEvidence {
  /** The earlier copy, if one was seen inside the window; `refused`: it was answered 5xx before anything was decided. */
  earlier: { at: number; refused: boolean } | null;
  /** On every key of the alert, the strategy's last alert is that copy: nothing of this strategy came between. */
  lastOnEveryKey: boolean;
  /** The alert carries an idempotency field (`relay_alert_id={{timenow}}`): one value, one trigger. */
  hasAlertId: boolean;
}

export type RepeatVerdict =
  | { kind: 'new' }
  /** A 5xx-answered copy TradingView sends again: nothing was decided, so this copy is the alert. */
  | { kind: 'second-chance' }
  | { kind: 'duplicate' | 'stale-resend'; reason: string };

/**
 * Tells a resend or a repeat from a new trigger (issue 7, case 3). TradingView sends an alert again
 * 5 s later, up to 3 times, when the answer is 5xx (docs/external-systems.md §1.1); alerts are also repeated by
 * other senders. Without an idempotency field a byte-identical body is the same trigger unless
 * the strategy sent another alert on the same key since (then it is a legitimate repeat: entry,
 * exit, entry again). With one, the same value is the same trigger whatever came between.
 * A copy of an alert answered 5xx is TradingView's resend: it gets the second chance the 5xx
 * promised, unless the strategy has moved on since (a resend arriving after a later alert is stale).
 */
export function recognizeRepeat(evidence: RepeatEvidence, windowSeconds: number): RepeatVerdict {
  const { earlier, lastOnEveryKey, hasAlertId } = evidence;
  if (earlier === null) return { kind: 'new' };
  if (earlier.refused) {
    if (lastOnEveryKey) return { kind: 'second-chance' };
    return {
      kind: 'stale-resend',
      reason: 'stale-resend: a copy of an alert answered "database busy" arrived after a later alert of the same strategy; not sent',
    };
  }
  if (hasAlertId) return { kind: 'duplicate', reason: 'duplicate: this relay_alert_id was already handled' };
  if (lastOnEveryKey)
    return { kind: 'duplicate', reason: `duplicate: the same alert from this strategy arrived within ${windowSeconds} s with nothing of it in between` };
  return { kind: 'new' };
}
