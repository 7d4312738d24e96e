import type { EngineSettings, Ownership, PositionReading, Signal, Verdict } from './types.js';

/**
 * The ownership rules for one (relay_user, account, instrument) key: a pure function of
 * (current owner, signal, API reading, now). `reading` is null until the relay has asked
 * CrossTrade; the engine asks for one (`needs-reading`) only when it could let an entry through.
 */
export function decide(
  ownership: Ownership | null,
  signal: Signal,
  reading: PositionReading | null,
  now: number,
  settings: EngineSettings,
  senderWasBlocked = false,
): Verdict {
  const isOwner = ownership?.relayId === signal.relayId;
  // The owner's alert starts from a position other than the one the relay recorded (an earlier
  // reversal of its was blocked, say): closing or reversing "it" would double the real one.
  if (
    isOwner &&
    (signal.type === 'exit' || signal.type === 'partial_exit' || signal.type === 'reversal') &&
    isOtherDirection(signal.from, ownership.direction)
  ) {
    const reason = `direction-mismatch: ${signal.relayId} starts from ${signal.from} but its recorded position is ${ownership.direction}; check the position in NinjaTrader`;
    return signal.type === 'reversal' ? { action: 'block', reason } : { action: 'drop', reason };
  }
  switch (signal.type) {
    case 'passthrough':
      return { action: 'forward', reason: 'passthrough: no market position fields', change: { kind: 'keep' }, staleOwnerCleared: false };
    case 'entry':
      return decideEntry(ownership, signal, reading, now, settings);
    case 'reversal':
      // The strategy believes it holds a position the relay never let it open: its reversal
      // quantity (close + open) would open a doubled position.
      if (senderWasBlocked && !isOwner)
        return { action: 'block', reason: `not-owner: ${signal.relayId}'s entry was blocked, its reversal would double the position` };
      return decideEntry(ownership, signal, reading, now, settings);
    case 'add':
      return decideAdd(ownership, signal, now, settings);
    case 'exit':
    case 'partial_exit':
      // Its entry never reached the account: closing "its" position would open an orphaned one.
      if (senderWasBlocked && !isOwner) return { action: 'drop', reason: `phantom-exit: ${signal.relayId}'s entry was blocked, it holds no position` };
      return decideExit(ownership, signal);
  }
}

/**
 * Whether the alert's sender holds no position on its keys after this alert: an entry that was
 * blocked leaves its strategy believing in a position that does not exist (null: unchanged).
 */
export function senderBlockedAfter(type: Signal['type'], finalDecision: 'forwarded' | 'blocked' | 'dropped' | 'failed-definitely'): boolean | null {
  if (type === 'exit') return false; // the strategy is flat in its own view
  if (type !== 'entry' && type !== 'reversal' && type !== 'add') return null;
  if (finalDecision === 'forwarded') return false;
  if (finalDecision === 'blocked' || finalDecision === 'failed-definitely') return true;
  return null; // a duplicate changes nothing
}

function decideEntry(ownership: Ownership | null, signal: Signal, reading: PositionReading | null, now: number, settings: EngineSettings): Verdict {
  if (ownership === null) {
    return { action: 'forward', reason: `${signal.type}: nobody owns the position`, change: claim(signal, now, settings), staleOwnerCleared: false };
  }
  if (ownership.relayId === signal.relayId) {
    const change = claim(signal, now, settings, ownership.openedAt);
    // A market re-entry must not cut short the hold of the owner's resting order.
    const holdUntil = Math.max(ownership.holdUntil, change.ownership.holdUntil);
    return {
      action: 'forward',
      reason: `${signal.type}: ${signal.relayId} owns the position`,
      change: { kind: 'set', ownership: { ...change.ownership, holdUntil } },
      staleOwnerCleared: false,
    };
  }
  const owner = `owned by ${ownership.relayId}`;
  // Inside the hold the owner's order may not have filled yet (or may rest as a limit order),
  // so no flat reading can prove it stale: asking the API would only spend its budget.
  if (now < ownership.holdUntil) return { action: 'block', reason: `owner-order-pending: ${owner}, ${holdText(ownership, now)}` };
  if (reading === null) return { action: 'needs-reading', reason: `contested: ${owner}` };
  switch (reading.kind) {
    case 'unknown':
      return { action: 'block', reason: `position-check-failed: ${owner}, CrossTrade check failed (${reading.reason})` };
    case 'open':
      return { action: 'block', reason: `position-open: ${owner}, CrossTrade reports ${reading.detail}` };
    case 'flat':
      // Only a flat reading taken after the owner's hold ended counts (reference §6). A reading
      // from the very millisecond of a claim may predate the claim's own order: it does not count.
      if (reading.takenAt <= ownership.holdUntil) {
        return { action: 'block', reason: `owner-order-pending: ${owner}, flat reading taken inside the hold` };
      }
      return {
        action: 'forward',
        reason: `stale-owner-cleared: ${owner}, CrossTrade reports flat`,
        change: { ...claim(signal, now, settings), displaced: ownership.relayId },
        staleOwnerCleared: true,
      };
  }
}

function decideAdd(ownership: Ownership | null, signal: Signal, now: number, settings: EngineSettings): Verdict {
  if (ownership === null) return { action: 'block', reason: 'add-without-ownership: nobody owns the position, an add would open exposure' };
  if (ownership.relayId !== signal.relayId) return { action: 'block', reason: `not-owner: owned by ${ownership.relayId}, an add would stack exposure` };
  const change = claim(signal, now, settings, ownership.openedAt);
  const holdUntil = Math.max(ownership.holdUntil, change.ownership.holdUntil);
  return {
    action: 'forward',
    reason: `add: ${signal.relayId} owns the position`,
    change: { kind: 'set', ownership: { ...change.ownership, holdUntil } },
    staleOwnerCleared: false,
  };
}

function decideExit(ownership: Ownership | null, signal: Signal): Verdict {
  const what = signal.type === 'exit' ? 'exit' : 'partial exit';
  if (ownership === null) return { action: 'forward', reason: `${what}: nobody owns the position`, change: { kind: 'keep' }, staleOwnerCleared: false };
  if (ownership.relayId !== signal.relayId) return { action: 'drop', reason: `phantom-exit: owned by ${ownership.relayId}` };
  return {
    action: 'forward',
    reason: `${what}: ${signal.relayId} owns the position`,
    change: signal.type === 'exit' ? { kind: 'clear' } : { kind: 'keep' },
    staleOwnerCleared: false,
  };
}

function isOtherDirection(from: Signal['from'], recorded: Ownership['direction']): boolean {
  return (from === 'long' || from === 'short') && from !== recorded;
}

function claim(signal: Signal, now: number, settings: EngineSettings, openedAt = now): { kind: 'set'; ownership: Ownership } {
  if (signal.direction === null) throw new TypeError(`a ${signal.type} signal must carry a direction`);
  return {
    kind: 'set',
    ownership: { relayId: signal.relayId, direction: signal.direction, openedAt, claimedAt: now, holdUntil: now + holdMs(signal, settings) },
  };
}

/** How long a flat reading cannot clear a fresh claim: the fill grace, longer while a LIMIT/STOP entry may rest. */
export function holdMs(signal: Signal, settings: EngineSettings): number {
  if (!signal.resting) return settings.fillGraceMs;
  return (signal.restingForMs ?? settings.restingGraceMs) + settings.fillGraceMs;
}

function holdText(ownership: Ownership, now: number): string {
  return `flat readings are not trusted for another ${Math.ceil((ownership.holdUntil - now) / 1000)} s`;
}
