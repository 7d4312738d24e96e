import { impliedSignal } from './classify.js';
import { describeDoubt } from './describe-doubt.js';
import type { DecideContext, Direction, Doubt, KeyRecord, Outcome, Ownership, PositionReading, Signal, Strategy, StrategyMark, Verdict } from './types.js';

/** Signal types whose forward can open or add exposure: blocked, never dropped, when not sent. */
const OPENS_EXPOSURE: ReadonlySet<Signal['type']> = new Set(['entry', 'reversal', 'add', 'order']);

/**
 * The rules for one (CrossTrade account, instrument) key: a pure function of the relay's record,
 * the alert (what it says the strategy held and does), CrossTrade's reading of the account
 * (null until asked) and the time. The three witnesses (issue 7):
 * - the record alone decides only when it is certain and the alert agrees with it;
 * - when the alert's claim disagrees with the record, the record is in doubt (an order in
 *   flight, failed ambiguously or resting), or nobody owns the key and the order could close,
 *   reduce or reverse a position, the account decides: `needs-reading`, then only what is
 *   consistent with the account is forwarded;
 * - an account that cannot be read blocks whatever could open or add exposure, and drops an exit:
 *   sending it could open an orphaned position, not sending it leaves one open that the relay did
 *   not cause (README, "When CrossTrade cannot be read").
 */
export function decide(record: KeyRecord, signal: Signal, reading: PositionReading | null, ctx: DecideContext): Verdict {
  const verdict = keepClosing(record, signal, decideKey(record, signal, reading, ctx), ctx);
  if (verdict.action !== 'block' && verdict.action !== 'drop') return verdict;
  const mark = senderMarkWhenNotSent(record, signal, verdict.action);
  if (mark === null) return verdict;
  const send = verdict.send ?? { record, marks: [] };
  return { ...verdict, send: { record: send.record, marks: [...send.marks, mark] } };
}

/** Orders that can close contracts: until their fill shows, a reading may still count them. */
const CLOSES_CONTRACTS: ReadonlySet<Signal['type']> = new Set(['exit', 'partial_exit', 'reversal', 'flatten', 'order']);

/**
 * Every record a verdict writes keeps the key's `closingUntil`; a forward of an order that can close
 * contracts moves it to when that order's fill shows at the latest (its delay plus the fill grace),
 * except in the outcome where CrossTrade refused it (it never reached the account).
 */
function keepClosing(record: KeyRecord, signal: Signal, verdict: Verdict, ctx: DecideContext): Verdict {
  const before = record.closingUntil ?? 0;
  const sent = CLOSES_CONTRACTS.has(signal.type) ? Math.max(before, ctx.now + (signal.delayMs ?? 0) + ctx.settings.fillGraceMs) : before;
  const carry = (outcome: Outcome, until: number): Outcome =>
    until > ctx.now && outcome.record.closingUntil !== until ? { ...outcome, record: { ...outcome.record, closingUntil: until } } : outcome;
  switch (verdict.action) {
    case 'forward':
      return {
        ...verdict,
        send: carry(verdict.send, sent),
        delivered: carry(verdict.delivered, sent),
        unknown: carry(verdict.unknown, sent),
        refused: carry(verdict.refused, before),
      };
    case 'block':
    case 'drop':
      return verdict.send === null ? verdict : { ...verdict, send: carry(verdict.send, before) };
    default:
      return verdict;
  }
}

/**
 * A strategy whose entry-like order was blocked believes in a position the account does not hold:
 * it holds nothing here. One whose exit was dropped is flat in its own view: that memory ends.
 */
export function senderMarkWhenNotSent(record: KeyRecord, signal: Signal, action: 'block' | 'drop'): StrategyMark | null {
  if (record.owner !== null && sameStrategy(record.owner, signal)) return null;
  if (action === 'block' && OPENS_EXPOSURE.has(signal.type)) return { ...strategyOf(signal), holdsNothing: true };
  if (signal.type === 'exit') return { ...strategyOf(signal), holdsNothing: false };
  return null;
}

/**
 * The record after the sender's alert was refused before any decision (503, database busy): a
 * strategy that owns the key now believes the order took effect, and TradingView's resend may come
 * after its next alert and be dropped as stale, so the record no longer speaks for it: the next
 * order of the key is checked against the account (`changed`). Null: the record stays.
 */
export function recordAfterRefusal(record: KeyRecord, sender: Strategy, at: number): KeyRecord | null {
  if (record.owner === null || !sameStrategy(record.owner, sender) || record.doubt !== null) return null;
  return { ...record, doubt: changed(at) };
}

/**
 * The record after its owner is released: nobody owns it, and it is in doubt (`changed`). Released
 * by hand (clear-position, after its position was closed or its order cancelled in NinjaTrader),
 * from now. Released without that word (remove-user, a switch between paper and live), from the
 * end of the owner's hold: its last order may fill (or show) until then, so a flat reading taken
 * before then lets no entry in (decideKey): the position still filling would be stacked on.
 */
export function recordAfterRelease(record: KeyRecord, at: number, byHand: boolean): KeyRecord {
  const { owner } = record;
  const since = byHand || owner === null ? at : Math.max(at, owner.holdUntil);
  return { ...record, owner: null, doubt: changed(since) };
}

function decideKey(record: KeyRecord, signal: Signal, reading: PositionReading | null, ctx: DecideContext): Verdict {
  const { owner, doubt } = record;
  const isOwner = owner !== null && sameStrategy(owner, signal);
  if (signal.type === 'passthrough') return forwardUnchanged(record, 'passthrough: no effect on a position');
  if (!signal.instrumentReadable) {
    return notSent(signal, `instrument-unreadable: the relay cannot read this instrument name, so no CrossTrade check could ever tell its position`);
  }
  if (doubt?.kind === 'in-flight') {
    // Another strategy's entry or exit is refused whatever that order's outcome; anything else depends on it.
    const decidedAnyway = owner !== null && !isOwner && signal.type !== 'flatten' && signal.type !== 'order';
    if (!decidedAnyway) {
      if (!ctx.waitExpired) return { action: 'wait', reason: 'order-in-flight: waiting for the outcome of the previous order of this key' };
      return notSent(signal, 'order-in-flight: the previous order of this key has not been answered yet; nothing was sent on a record that may be wrong');
    }
  }
  if (signal.type === 'order') return decideOrder(record, signal, reading, ctx);
  if (signal.type === 'flatten') return forwardFlatten(record, signal, ctx);
  if (owner !== null && !isOwner) return decideAgainstOwner(record, owner, signal, reading, ctx);
  if (owner === null && ctx.sender.holdsNothing) {
    // Its entry never reached the account, or its position was closed: acting on "its" position
    // would open an orphaned one (exit) or a doubled one (a reversal closes and opens).
    if (signal.type === 'exit' || signal.type === 'partial_exit') return drop(`phantom-exit: ${signal.relayId} holds no position here`);
    if (signal.type === 'reversal') return block(`not-owner: ${signal.relayId} holds no position here, its reversal would double the position`);
  }
  if (owner === null && signal.type === 'add') return block('add-without-ownership: nobody owns the position, an add would open exposure');

  if (doubt?.kind === 'closing') {
    // An exit was just taken: the account may still show its position. An entry needs no reading
    // (the position is on its way out); anything read against the account waits for the grace.
    // A LIMIT/STOP entry may not fill: its owner's next exit would then be read against the position
    // on its way out, and close it twice. A market entry fills, so the exit after it closes what is there.
    // A delayed exit (CrossTrade's delay=) has not even executed before `since`: nothing enters then.
    if (ctx.now < doubt.since + ctx.settings.fillGraceMs && (signal.type !== 'entry' || signal.resting || ctx.now < doubt.since)) {
      return notSent(
        signal,
        `exit-settling: ${describeDoubt(doubt.kind)}; CrossTrade's reading cannot be trusted for another ${Math.ceil((doubt.since + ctx.settings.fillGraceMs - ctx.now) / 1000)} s`,
      );
    }
    const verdict = decideKey({ ...record, doubt: null }, signal, reading, ctx);
    // An entry CrossTrade refuses leaves the key as it was: still closing.
    return verdict.action === 'forward' ? { ...verdict, refused: { ...verdict.refused, record } } : verdict;
  }
  if (doubt?.kind === 'working-exit' && isOwner && signal.type !== 'entry') {
    // A LIMIT/STOP exit still works on this position: a second closing order would close it twice.
    return notSent(signal, `working-exit: a LIMIT/STOP exit of ${signal.relayId} still works on this position; cancel it in NinjaTrader or wait for its fill`);
  }
  if (isOwner && signal.type === 'add' && !sizeKnown(signal)) {
    // A lost or refused partial exit leaves the strategy believing in fewer contracts than the
    // account holds; only its own size, compared with the account, shows that (issue 7).
    return block(
      `add-size-unknown: ${signal.relayId}'s add carries no prev_market_position_size, so the relay cannot check it against the account (an add on a position larger than the strategy believes stacks); put prev_market_position_size={{strategy.prev_market_position_size}} in the alert`,
    );
  }
  const why = doubtReason(record, signal, isOwner);
  if (why === null) {
    if (!isOwner || !CONFIRMED.has(signal.type)) return forwardSignal(record, signal, ctx, []);
    // The record and the alert agree, but the position may have been closed outside the relay
    // (an ATM stop, a manual close): the account is the third witness.
    if (reading === null) return { action: 'needs-reading', reason: `confirm: the account is checked for a position changed outside the relay` };
    return confirmOnReading(record, owner, signal, reading, ctx);
  }
  // The owner's own earlier entry may not have filled yet: no reading could prove it gone.
  if (isOwner && signal.type === 'entry' && ctx.now < owner.holdUntil) {
    return block(`owner-order-pending: ${signal.relayId} already owns this position (${owner.direction}); ${holdText(owner, ctx.now)}`);
  }
  // The owner's alert disagrees with the record while its last order may not show yet: any reading,
  // flat or open, may predate that order, so none can say which of the two is right.
  if (isOwner && why.startsWith('claim-mismatch') && ctx.now < owner.holdUntil) {
    return notSent(
      signal,
      `position-check-inconclusive: ${why}; CrossTrade may not show ${signal.relayId}'s last order for another ${Math.ceil((owner.holdUntil - ctx.now) / 1000)} s`,
    );
  }
  if (reading === null) return { action: 'needs-reading', reason: why };
  if (reading.kind === 'flat' && doubt?.kind === 'changed' && reading.takenAt < doubt.since) {
    // A key released inside its owner's hold (recordAfterRelease): the owner's last order may not show yet.
    return notSent(
      signal,
      `position-check-inconclusive: ${why}; CrossTrade may not show the released position's last order for another ${Math.ceil((doubt.since - reading.takenAt) / 1000)} s`,
    );
  }
  if (reading.kind === 'open' && record.closingUntil !== undefined && reading.takenAt < record.closingUntil) {
    // A record in doubt is reconciled from the account, but this reading may still show contracts an
    // order already sent has closed: acting on them could open an orphaned position.
    return notSent(
      signal,
      `position-check-inconclusive: ${why}; CrossTrade may still show contracts an order of this key closed ${Math.ceil((record.closingUntil - reading.takenAt) / 1000)} s before its fill must show`,
    );
  }
  return decideOnReading(record, signal, reading, ctx, why);
}

/** An order without position fields: the account says what it does, then it is judged as that signal. */
function decideOrder(record: KeyRecord, signal: Signal, reading: PositionReading | null, ctx: DecideContext): Verdict {
  if (reading === null) return { action: 'needs-reading', reason: 'order without position fields: CrossTrade tells what it does' };
  if (reading.kind === 'unknown') return block(`position-check-failed: an order without position fields needs CrossTrade's position (${reading.reason})`);
  const implied = signal.order === undefined ? null : impliedSignal(signal.order, reading);
  if (implied === null) return block('order-unreadable: an order without position fields needs an action and a whole qty');
  if (implied.type === 'passthrough') {
    // "Nothing happens" is only as good as the reading: an owner's order may not show yet, nor a close.
    if (record.owner !== null || record.doubt !== null || (reading.kind === 'open' && reading.takenAt < (record.closingUntil ?? 0))) {
      return block(
        `order-unreadable: it would change nothing only if CrossTrade's reading (${readingText(reading)}) is current, and the record says otherwise`,
      );
    }
    return forwardUnchanged(record, `order: changes no position (CrossTrade reports ${readingText(reading)})`);
  }
  const verdict = decideKey(
    record,
    { ...signal, type: implied.type, direction: implied.direction, from: implied.from, quantity: implied.quantity, fromAccount: true },
    reading,
    ctx,
  );
  return verdict.action === 'needs-reading'
    ? verdict
    : { ...verdict, reason: `order read as ${implied.type.replace('_', ' ')} (CrossTrade reports ${readingText(reading)}): ${verdict.reason}` };
}

/** Another strategy owns the key: only an entry on a position proved gone gets through. */
function decideAgainstOwner(record: KeyRecord, owner: Ownership, signal: Signal, reading: PositionReading | null, ctx: DecideContext): Verdict {
  const by = `owned by ${describe(owner, signal)}`;
  if (signal.type === 'exit' || signal.type === 'partial_exit') return drop(`phantom-exit: ${by}`);
  if (signal.type === 'add') return block(`not-owner: ${by}, an add would stack exposure`);
  // A reversal closes a position its strategy does not hold here and opens a doubled one.
  if (signal.type === 'reversal') return block(`not-owner: ${by}, a reversal would close its position and open a doubled one`);
  // While the owner's order is in flight, or inside the hold (it may not have filled yet, or rests
  // as a limit order), no flat reading can prove it stale: asking the API would only spend its budget.
  if (record.doubt?.kind === 'in-flight') return block(`owner-order-pending: ${by}, an order of this key has not been answered yet`);
  if (ctx.now < owner.holdUntil) return block(`owner-order-pending: ${by}, ${holdText(owner, ctx.now)}`);
  if (reading === null) return { action: 'needs-reading', reason: `contested: ${by}` };
  switch (reading.kind) {
    case 'unknown':
      return block(`position-check-failed: ${by}, CrossTrade check failed (${reading.reason})`);
    case 'open':
      return block(`position-open: ${by}, CrossTrade reports ${reading.detail}`);
    case 'flat':
      // Only a reading requested after the hold ended counts (docs/external-systems.md §6).
      if (reading.takenAt <= owner.holdUntil) return block(`owner-order-pending: ${by}, flat reading taken inside the hold`);
      return forwardSignal(
        { owner: null, doubt: null },
        signal,
        ctx,
        [{ ...strategyOf(owner), holdsNothing: true }],
        `stale-owner-cleared: ${by}, CrossTrade reports flat`,
      );
  }
}

/** The owner's alert and the contracts the record adds up to disagree (null: they agree, or either does not say). */
function sizeMismatch(signal: Signal, owner: Ownership): string | null {
  const held = owner.quantity ?? null;
  if (held === null) return null;
  if (signal.fromSize !== undefined && signal.fromSize !== null && signal.fromSize !== held) {
    return `${signal.relayId} says it held ${signal.fromSize}, the record ${held}`;
  }
  if (signal.quantity !== null && exceeds(signal, signal.quantity, held))
    return `${signal.relayId}'s ${signal.type.replace('_', ' ')} of ${signal.quantity} does not fit the ${held} the record holds`;
  if (signal.type === 'exit' && signal.quantity !== null && signal.quantity < held)
    return `${signal.relayId}'s exit of ${signal.quantity} leaves part of the ${held} the record holds`;
  return null;
}

/** Why the record alone cannot decide this alert (null: it can). */
function doubtReason(record: KeyRecord, signal: Signal, isOwner: boolean): string | null {
  const { owner, doubt } = record;
  if (owner !== null && isOwner) {
    if (signal.type === 'entry' || signal.from === 'flat')
      return `claim-mismatch: ${signal.relayId} says it was flat, the record says it holds ${owner.direction}`;
    if (signal.from !== null && signal.from !== owner.direction) {
      return `claim-mismatch: ${signal.relayId} says it was ${signal.from}, the record says ${owner.direction}`;
    }
    const size = sizeMismatch(signal, owner);
    if (size !== null) return `claim-mismatch: ${size}`;
  }
  if (doubt !== null) return `record-uncertain: ${describeDoubt(doubt.kind)}`;
  if (owner === null && (signal.type === 'exit' || signal.type === 'partial_exit' || signal.type === 'reversal')) {
    return `nobody-owns: ${withArticle(signal.type)} could close or reverse a position the relay did not open`;
  }
  return null;
}

/** The owner's exit, partial exit, add or reversal, on a record that agrees with the alert. */
const CONFIRMED: ReadonlySet<Signal['type']> = new Set(['exit', 'partial_exit', 'add', 'reversal']);

/**
 * Whether an alert's first decision, taken without a reading, most likely asks for one: the
 * owner's exit, partial exit, add or reversal is confirmed against the account (issue 7), and an
 * order without position fields is read as what CrossTrade shows. A hint for the store only
 * (ArbitrationPlan.look): `decide` still decides, whatever this answers.
 */
export function readsFirst(signal: Pick<Signal, 'type'>): boolean {
  return CONFIRMED.has(signal.type) || signal.type === 'order';
}

/**
 * Two witnesses agree; the account can still say the position is gone. A flat reading inside the
 * owner's hold may be its own order not filled yet, so it proves nothing; an unreadable account
 * does not stop an exit the record and the alert agree on, but does stop exposure (issue 7).
 */
function confirmOnReading(record: KeyRecord, owner: Ownership, signal: Signal, reading: PositionReading, ctx: DecideContext): Verdict {
  const agree = `${forwardReason(signal, true)}; the record and the alert agree`;
  if (reading.kind === 'unknown') {
    if (OPENS_EXPOSURE.has(signal.type)) return block(`position-check-failed: ${agree}, but CrossTrade check failed (${reading.reason})`);
    return forwardSignal(record, signal, ctx, [], `${agree}; CrossTrade check failed (${reading.reason})`, reading);
  }
  if (reading.kind === 'flat' && reading.takenAt <= owner.holdUntil) {
    const inconclusive = 'a flat reading inside the fill grace of its own order proves nothing';
    // A reversal on a position a stop just closed would open a doubled one; an add or an exit
    // cannot double anything, and blocking it would leave the strategy out of step if the reading lags.
    if (signal.type === 'reversal') return block(`position-check-inconclusive: ${agree}, but ${inconclusive} either way`);
    return forwardSignal(record, signal, ctx, [], `${agree}; ${inconclusive}`, reading);
  }
  return decideOnReading(record, signal, reading, ctx, "confirm: the owner's order checked against the account");
}

/** The account decides: forward only what is consistent with it (issue 7, "the principle"). */
function decideOnReading(record: KeyRecord, signal: Signal, reading: PositionReading, ctx: DecideContext, why: string): Verdict {
  const { owner } = record;
  if (reading.kind === 'unknown') {
    const reason = `position-check-failed: ${why}; CrossTrade check failed (${reading.reason})`;
    return OPENS_EXPOSURE.has(signal.type) ? block(reason) : drop(`${reason}; not sent, it could open an orphaned position: check the position in NinjaTrader`);
  }
  if (reading.kind === 'open' && signal.type === 'reversal' && !sizeKnown(signal) && signal.quantity !== null && signal.quantity !== 2 * reading.quantity) {
    // Without its size the reversal's quantity (the close plus the open) cannot be split: only a
    // mirror of the account's position (close it all, open as many) is known to be what it means.
    return block(
      `reversal-size-unknown: ${signal.relayId}'s reversal of ${signal.quantity} is not twice the ${reading.detail} CrossTrade reports, and without prev_market_position_size the relay cannot tell how much it would open; put prev_market_position_size={{strategy.prev_market_position_size}} in the alert`,
    );
  }
  const expected = expectedBefore(signal, owner);
  const actual = reading.kind === 'flat' ? 'flat' : reading.direction;
  const oversized =
    reading.kind === 'open' &&
    ((signal.quantity !== null && exceeds(signal, signal.quantity, reading.quantity)) ||
      // The strategy's own size is a witness too: a strategy that believes in another size than the account holds is out of step.
      (signal.fromSize !== undefined && signal.fromSize !== null && signal.fromSize > 0 && signal.fromSize !== reading.quantity));
  const accountText = reading.kind === 'flat' ? 'flat' : reading.detail;
  if (expected === null || expected !== actual || oversized) {
    const reason = `position-mismatch: ${why}; CrossTrade reports ${accountText}`;
    const gone = owner !== null && reading.kind === 'flat' && reading.takenAt > owner.holdUntil && record.doubt?.kind !== 'working-order';
    // A position the account no longer has is released: its owner holds nothing here any more.
    const send: Outcome | null = gone ? { record: { owner: null, doubt: null }, marks: [{ ...strategyOf(owner), holdsNothing: true }] } : null;
    return OPENS_EXPOSURE.has(signal.type) ? { action: 'block', reason, send } : { action: 'drop', reason, send };
  }
  // The account confirms what the alert needs: the doubt is settled. An owner's entry on a flat
  // account finds its old position gone: it claims afresh.
  const base: KeyRecord = signal.type === 'entry' ? { owner: null, doubt: null } : { owner, doubt: null };
  const reason = `${forwardReason(signal, owner !== null && sameStrategy(owner, signal))}; reconciled: CrossTrade reports ${accountText}`;
  return forwardSignal(base, signal, ctx, [], reason, reading);
}

/** Whether the alert says how many contracts its strategy held (or the account said it, for an order without position fields). */
function sizeKnown(signal: Signal): boolean {
  return signal.fromAccount === true || (signal.fromSize !== undefined && signal.fromSize !== null);
}

/** The position the account must hold for this alert to be consistent with it (null: nothing is). */
function expectedBefore(signal: Signal, owner: Ownership | null): 'flat' | Direction | null {
  if (signal.type === 'entry') return 'flat';
  if (signal.from === 'long' || signal.from === 'short') return signal.from;
  // flat → flat: the strategy says nothing about what it closes; the record or the order's side does.
  if (owner !== null) return owner.direction;
  return null;
}

/**
 * An order whose quantity does not fit the contracts held: an exit larger than the position (it
 * would flip it), a partial exit as large (it would close it all), a reversal no larger (it would
 * not reverse: TradingView's reversal quantity is the close plus the open, docs/external-systems.md §1.5).
 */
function exceeds(signal: Signal, quantity: number, held: number): boolean {
  if (signal.type === 'exit') return quantity > held;
  if (signal.type === 'partial_exit') return quantity >= held;
  if (signal.type === 'reversal') return quantity <= held;
  return false;
}

/** Sends an arbitrated signal from `base` (the record after any reconciliation). */
function forwardSignal(base: KeyRecord, signal: Signal, ctx: DecideContext, sendMarks: StrategyMark[], reason?: string, reading?: PositionReading): Verdict {
  const { owner } = base;
  const isOwner = owner !== null && sameStrategy(owner, signal);
  const sender = strategyOf(signal);
  const working: Doubt | null = signal.resting ? { kind: 'working-order', since: ctx.now } : null;
  let after: Ownership | null;
  let delivered: KeyRecord;
  switch (signal.type) {
    case 'entry':
    case 'reversal':
    case 'add':
      after = claim(signal, ctx, isOwner ? owner : null);
      // An add sent on a reading that proved nothing: the size the record cannot know is read next time.
      delivered = { owner: after, doubt: working ?? (signal.type === 'add' && reading?.kind === 'flat' ? changed(ctx.now) : null) };
      break;
    case 'exit':
      after = owner;
      // A resting exit (LIMIT/STOP) keeps the position its owner's until the account reads flat.
      delivered = signal.resting
        ? { owner, doubt: { kind: 'working-exit', since: ctx.now } }
        : { owner: null, doubt: afterExit(signal, reading, ctx.now, owner) };
      break;
    default:
      after = owner;
      // A partial exit with nobody owning leaves a position of a size the record cannot know.
      delivered = {
        owner: reduced(owner, signal.quantity, ctx.now + holdMs({ ...signal, resting: false }, ctx.settings)),
        doubt: working ?? (owner === null ? changed(ctx.now) : null),
      };
  }
  const opens = OPENS_EXPOSURE.has(signal.type);
  return {
    action: 'forward',
    reason: reason ?? forwardReason(signal, isOwner),
    send: { record: { owner: after, doubt: { kind: 'in-flight', since: ctx.now } }, marks: sendMarks },
    delivered: { record: delivered, marks: [{ ...sender, holdsNothing: false }] },
    // A LIMIT/STOP exit that may have reached CrossTrade may be working: treated as one.
    unknown: {
      record: { owner: after, doubt: { kind: signal.type === 'exit' && signal.resting ? 'working-exit' : 'unknown-outcome', since: ctx.now } },
      marks: opens ? [{ ...sender, holdsNothing: false }] : [],
    },
    // It never reached NinjaTrader: the record is as before; an entry's strategy now holds nothing here.
    // It never reached NinjaTrader: the record is as before, but a strategy that owns the key now
    // believes in another position than the record (a refused add, exit or reversal), and a record
    // reconciled from a reading is only as good as that reading: the next order re-reads.
    refused: {
      record: base.owner === null && base.doubt === null ? base : { owner: base.owner, doubt: changed(ctx.now) },
      marks: opens && !isOwner ? [{ ...sender, holdsNothing: true }] : [],
    },
  };
}

/** FLATTEN / CLOSEPOSITION can only take the account toward flat: always sent, and the record follows. */
/**
 * The owner after a partial exit: fewer contracts, and a hold until the exit's fill can show: a
 * reading before then may still count the contracts it closed.
 */
function reduced(owner: Ownership | null, by: number | null, holdUntil: number): Ownership | null {
  if (owner === null) return null;
  const held = owner.quantity ?? null;
  return { ...owner, quantity: held === null || by === null ? null : held - by, holdUntil: Math.max(owner.holdUntil, holdUntil) };
}

function changed(now: number): Doubt {
  return { kind: 'changed', since: now };
}

/**
 * The record after a delivered exit. The account may show the position for a while yet (fill lag,
 * CrossTrade's `delay`): `closing` keeps a nobody-owns exit or reversal from being read against it.
 * An exit smaller than the position read leaves contracts nobody owns, and one sent on a reading that
 * proved nothing may have found the position gone: `changed`, the next order re-reads.
 */
function afterExit(signal: Signal, reading: PositionReading | undefined, now: number, owner: Ownership | null): Doubt {
  const held = owner?.quantity ?? null;
  const sizeUnknown =
    (reading !== undefined && (reading.kind !== 'open' || signal.quantity === null || signal.quantity < reading.quantity)) ||
    (held !== null && (signal.quantity === null || signal.quantity < held));
  return sizeUnknown ? changed(now) : { kind: 'closing', since: now + (signal.delayMs ?? 0) };
}

function forwardFlatten(record: KeyRecord, signal: Signal, ctx: DecideContext): Verdict {
  const { owner } = record;
  const { now } = ctx;
  const since = { since: now };
  const released: StrategyMark[] = owner === null || signal.partial ? [] : [{ ...strategyOf(owner), holdsNothing: true }];
  // A CLOSEPOSITION leaves a working order working: one known to rest, or one whose outcome is unknown.
  const keepsWorking =
    signal.keepsWorkingOrders === true &&
    (record.doubt?.kind === 'working-order' || record.doubt?.kind === 'working-exit' || record.doubt?.kind === 'unknown-outcome');
  return {
    action: 'forward',
    reason: signal.partial ? 'flatten: a partial close, the position size is re-read before the next order' : 'flatten: closes the position whoever owns it',
    send: { record: { owner, doubt: { kind: 'in-flight', ...since } }, marks: [] },
    // A partial close leaves a position of a size the record cannot know; a CLOSEPOSITION leaves
    // working orders working (only FLATTEN cancels them, docs/external-systems.md §2.4, §3.4).
    delivered: {
      record: signal.partial
        ? { owner, doubt: { kind: 'changed', ...since } }
        : keepsWorking
          ? { owner: holdWhileWorking(owner, record, ctx), doubt: record.doubt }
          : { owner: null, doubt: { kind: 'closing', since: now + (signal.delayMs ?? 0) } },
      marks: keepsWorking ? [] : released,
    },
    // A close that may not have reached CrossTrade leaves a LIMIT/STOP exit that was working still
    // working as far as anyone knows: a second closing order would still close the position twice.
    unknown: { record: { owner, doubt: record.doubt?.kind === 'working-exit' ? record.doubt : { kind: 'unknown-outcome', ...since } }, marks: [] },
    refused: { record, marks: [] },
  };
}

/**
 * The position is closed but the owner's LIMIT/STOP order still works: a flat reading no longer means
 * it filled, so no entry may be let in on one until the key is cleared by hand (after cancelling the
 * order in NinjaTrader) or the resting grace ends.
 */
function holdWhileWorking(owner: Ownership | null, record: KeyRecord, ctx: DecideContext): Ownership | null {
  if (owner === null || record.doubt?.kind === 'unknown-outcome') return owner;
  return { ...owner, holdUntil: Math.max(owner.holdUntil, ctx.now + ctx.settings.restingGraceMs + ctx.settings.fillGraceMs) };
}

function forwardUnchanged(record: KeyRecord, reason: string): Verdict {
  const same: Outcome = { record, marks: [] };
  return { action: 'forward', reason, send: same, delivered: same, unknown: same, refused: same };
}

function forwardReason(signal: Signal, isOwner: boolean): string {
  const what = signal.type.replace('_', ' ');
  return isOwner ? `${what}: ${signal.relayId} owns the position` : `${what}: nobody owns the position`;
}

/** Not sent: blocked if it could open exposure, dropped if it could only close. A blocked sender that owns nothing holds nothing. */
function notSent(signal: Signal, reason: string): Verdict {
  return OPENS_EXPOSURE.has(signal.type) ? block(reason) : drop(reason);
}

function block(reason: string): Verdict {
  return { action: 'block', reason, send: null };
}

function drop(reason: string): Verdict {
  return { action: 'drop', reason, send: null };
}

function claim(signal: Signal, ctx: DecideContext, current: Ownership | null): Ownership {
  if (signal.direction === null) throw new TypeError(`${withArticle(signal.type)} signal must carry a direction`);
  const holdUntil = ctx.now + holdMs(signal, ctx.settings);
  return {
    ...strategyOf(signal),
    direction: signal.direction,
    quantity: claimedQuantity(signal, current),
    openedAt: current?.openedAt ?? ctx.now,
    claimedAt: ctx.now,
    // A market add or re-entry must not cut short the hold of the owner's resting order.
    holdUntil: Math.max(current?.holdUntil ?? 0, holdUntil),
  };
}

/** Contracts after an entry-like order: the entry's, the owner's plus an add, a reversal's minus what it closes. */
function claimedQuantity(signal: Signal, current: Ownership | null): number | null {
  const q = signal.quantity;
  if (q === null) return null;
  if (signal.type === 'entry') return q;
  const held = current?.quantity ?? null;
  if (held === null) return null;
  if (signal.type === 'add') return held + q;
  if (signal.type === 'reversal') return q > held ? q - held : null;
  return null;
}

/** How long a flat reading cannot clear a fresh claim: the fill grace, longer while a LIMIT/STOP entry may rest. */
export function holdMs(signal: Pick<Signal, 'resting' | 'restingForMs' | 'delayMs'>, settings: DecideContext['settings']): number {
  const delay = signal.delayMs ?? 0;
  if (!signal.resting) return delay + settings.fillGraceMs;
  return delay + (signal.restingForMs ?? settings.restingGraceMs) + settings.fillGraceMs;
}

export function sameStrategy(a: Strategy, b: Strategy): boolean {
  return a.relayId === b.relayId && a.relayUser === b.relayUser;
}

function strategyOf(s: Strategy): Strategy {
  return { relayUser: s.relayUser, relayId: s.relayId };
}

/** The owner as the sender should read it: its relay_id, with its relay_user when that differs. */
function describe(owner: Strategy, sender: Strategy): string {
  return owner.relayUser === sender.relayUser ? owner.relayId : `${owner.relayId} (relay_user ${owner.relayUser})`;
}

function withArticle(type: Signal['type']): string {
  const words = type.replace('_', ' ');
  return `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words}`;
}

function readingText(reading: PositionReading): string {
  return reading.kind === 'open' ? reading.detail : reading.kind;
}

function holdText(ownership: Ownership, now: number): string {
  return `flat readings are not trusted for another ${Math.ceil((ownership.holdUntil - now) / 1000)} s`;
}
