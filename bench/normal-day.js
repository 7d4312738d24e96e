// A normal trading day for one relay user, as a list of timed events: the alerts TradingView sends
// (with their repeats), the moments resting LIMIT exits fill, and the forwards whose answer is lost.
// Deterministic (seeded), so every run replays the same day. api-day.js replays it against the relay.

/** One user, one account, three strategies: two take turns on ES, one trades NQ. */
export const DAY = {
  user: 'trader',
  account: 'Sim101',
  /** Regular trading hours, New York (14:30-21:00 UTC in winter). */
  open: { hour: 14, minute: 30 },
  minutes: 390,
  strategies: [
    { id: 'ES-trend', instrument: 'ES 03-27' },
    { id: 'NQ-breakout', instrument: 'NQ 03-27' },
    { id: 'ES-revert', instrument: 'ES 03-27' },
  ],
  roundTripsPerStrategy: 20,
  /** Share of exits sent as LIMIT orders: they rest, then fill 1-3 minutes later. */
  limitExitShare: 0.25,
  /** Entries of one ES strategy while the other owns ES: this many after the owner's hold, one on the owner's bar. */
  contestedLate: 2,
  contestedSameBar: 1,
  /** Alerts delivered twice (4 s later); the first `repeatTwice` of them a third time, 20 s later. */
  repeats: 4,
  repeatTwice: 1,
  /** Forwards whose answer is lost (the webhook takes the order, then answers 500). */
  unknownOutcomes: 2,
};

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * The day's events, sorted by time (ms after the open): `{at, kind: 'alert', body, tag, strategy}`,
 * `{at, kind: 'fill'}` (the account's working orders fill) and `{at, kind: 'lose-answer'}` (the next
 * forward's answer is a 500 after the order was taken). Alerts fire at a 1-minute bar's close and
 * reach the relay 0.3-1.5 s later; every alert carries `relay_alert_id` (the bar time, as the README
 * recommends with `{{timenow}}`).
 */
export function normalDay(openAt, seed = 7) {
  const random = mulberry32(seed);
  const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const [esTrend, nq, esRevert] = DAY.strategies;
  const trips = [];
  // ES: the two strategies take turns, each waiting for the other to be flat (their rules never overlap).
  let minute = 2;
  for (let i = 0; i < 2 * DAY.roundTripsPerStrategy; i++) {
    const trip = roundTrip(i % 2 === 0 ? esTrend : esRevert, minute, between(2, 6), random() < DAY.limitExitShare, random() < 0.5, between);
    trips.push(trip);
    minute = trip.flatMinute + between(1, 4);
  }
  // NQ: on its own; a LIMIT exit only while no ES exit rests (the simulator fills the account's working orders at once).
  minute = 3;
  for (let i = 0; i < DAY.roundTripsPerStrategy; i++) {
    let trip = roundTrip(nq, minute, between(3, 10), random() < DAY.limitExitShare, random() < 0.5, between);
    if (trip.limit && trips.some((t) => t.limit && t.exitMinute <= trip.flatMinute && trip.exitMinute <= t.flatMinute)) trip = { ...trip, limit: false };
    trips.push(trip.limit ? trip : { ...trip, flatMinute: trip.exitMinute });
    minute = trips[trips.length - 1].flatMinute + between(4, 12);
  }
  const lastMinute = DAY.minutes - 2;
  if (trips.some((t) => t.flatMinute >= lastMinute)) throw new Error('normal-day: the round trips do not fit in the session');

  const events = [];
  const at = (m, lateS) => m * MINUTE + lateS * SECOND + between(300, 1500);
  const alert = (strategy, m, fields, tag, lateS = 0) => {
    const time = at(m, lateS);
    const id = new Date(openAt + m * MINUTE).toISOString();
    const body = alertText(strategy, { ...fields, relay_alert_id: id });
    const event = { at: time, kind: 'alert', body, tag, strategy: strategy.id };
    events.push(event);
    return event;
  };
  const entries = [];
  const exits = [];
  for (const t of trips) {
    const [side, from] = t.long ? ['BUY', 'long'] : ['SELL', 'short'];
    entries.push(alert(t.strategy, t.entryMinute, { action: side, prev: 'flat', now: from }, 'entry'));
    const exitFields = { action: side === 'BUY' ? 'SELL' : 'BUY', prev: from, now: 'flat' };
    if (t.limit) {
      alert(t.strategy, t.exitMinute, { ...exitFields, order_type: 'LIMIT', limit_price: '5000.25' }, 'LIMIT exit');
      events.push({ at: at(t.flatMinute, 30), kind: 'fill' });
    } else {
      exits.push(alert(t.strategy, t.exitMinute, exitFields, 'exit'));
    }
  }

  // Contested entries: the other ES strategy enters while the owner holds (MARKET exits only, so nothing rests).
  const holding = trips.filter((t) => t.strategy.instrument === esTrend.instrument && !t.limit && t.exitMinute - t.entryMinute >= 4);
  const picked = pick(holding, DAY.contestedLate + DAY.contestedSameBar, random);
  picked.forEach((t, i) => {
    const rival = t.strategy === esTrend ? esRevert : esTrend;
    const sameBar = i >= DAY.contestedLate;
    const [side, from] = t.long ? ['BUY', 'long'] : ['SELL', 'short'];
    // Same bar: a second later than the owner's entry, inside its hold. Late: two bars later, after it.
    alert(
      rival,
      t.entryMinute + (sameBar ? 0 : 2),
      { action: side, prev: 'flat', now: from },
      sameBar ? 'contested entry, same bar' : 'contested entry',
      sameBar ? 2 : 0,
    );
    // The rival's strategy believes it entered: its exit follows, a bar before the owner's.
    alert(rival, t.exitMinute - 1, { action: side === 'BUY' ? 'SELL' : 'BUY', prev: from, now: 'flat' }, 'exit of a blocked entry');
  });

  // Repeated deliveries of alerts that are not part of the above.
  const plain = events.filter((e) => e.tag === 'entry' || e.tag === 'exit');
  pick(plain, DAY.repeats, random).forEach((e, i) => {
    events.push({ ...e, at: e.at + 4 * SECOND, tag: 'repeated delivery' });
    if (i < DAY.repeatTwice) events.push({ ...e, at: e.at + 20 * SECOND, tag: 'repeated delivery' });
  });
  // Lost answers: one entry and one exit, each alone in its second so the fault hits that forward.
  const lone = (list) => list.filter((e) => !events.some((o) => o !== e && Math.abs(o.at - e.at) < 5 * SECOND));
  const losing = [...pick(lone(entries), Math.ceil(DAY.unknownOutcomes / 2), random), ...pick(lone(exits), Math.floor(DAY.unknownOutcomes / 2), random)];
  for (const e of losing) {
    e.tag = `${e.tag}, answer lost`;
    events.push({ at: e.at - 1, kind: 'lose-answer' });
  }

  // Session end: a FLATTEN per instrument (an order without position fields that only goes toward flat).
  for (const instrument of [esTrend.instrument, nq.instrument]) {
    const body =
      `relay_user=${DAY.user}; relay_id=EOD; command=FLATTEN; account=${DAY.account}; instrument=${instrument}; ` +
      `relay_alert_id=${new Date(openAt + lastMinute * MINUTE).toISOString()};`;
    events.push({ at: at(lastMinute, 0), kind: 'alert', body, tag: 'FLATTEN at the close', strategy: 'EOD' });
  }
  return { events: events.sort((a, b) => a.at - b.at), trips };
}

function roundTrip(strategy, entryMinute, holdMinutes, limit, long, between) {
  const exitMinute = entryMinute + holdMinutes;
  return { strategy, entryMinute, exitMinute, limit, long, flatMinute: limit ? exitMinute + between(1, 3) : exitMinute };
}

/** A strategy alert in TradingView's key=value form, with what every alert should carry (README). */
function alertText(strategy, { action, prev, now, order_type = 'MARKET', limit_price, relay_alert_id }) {
  return (
    `relay_user=${DAY.user}; relay_id=${strategy.id}; command=PLACE; account=${DAY.account}; instrument=${strategy.instrument}; ` +
    `action=${action}; qty=1; order_type=${order_type}; ${limit_price ? `limit_price=${limit_price}; ` : ''}tif=DAY; ` +
    `prev_market_position=${prev}; market_position=${now}; relay_alert_id=${relay_alert_id};`
  );
}

/** `n` distinct items of `list`, chosen by `random`, in list order. */
function pick(list, n, random) {
  const chosen = new Set();
  while (chosen.size < Math.min(n, list.length)) chosen.add(Math.floor(random() * list.length));
  return [...chosen].sort((a, b) => a - b).map((i) => list[i]);
}

/** A small seeded PRNG (mulberry32): the same day on every run. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
