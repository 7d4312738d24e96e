// The alerts the bench sends: many (relay_user, account, instrument) keys, in TradingView's
// key=value; text form. Upstream and bare-forwarder runs send the exact bytes the relay would
// forward (built with the relay's own formatForward), to the same per-user webhook paths.
import { formatForward } from '../dist/signal/format-alert.js';
import { parseAlertText } from '../dist/signal/parse-alert.js';
import { RELAY_FIELDS } from '../dist/signal/read-relay-alert.js';

export const USERS = Array.from({ length: 20 }, (_, i) => `u${i + 1}`);
const INSTRUMENTS = ['ES 03-27', 'NQ 03-27', 'YM 03-27', 'RTY 03-27', 'CL 01-27', 'GC 02-27', 'SI 03-27', 'ZB 03-27', 'ZN 03-27', '6E 03-27'];

export function crosstradeKey(user) {
  return `bench-key-${user}-0123456789`;
}

/**
 * users × accounts × instruments (20 × n × 10 keys), account names `${prefix}101-${user}`…: every
 * user's accounts are its own, as in NinjaTrader. The simulator keeps one book per account name
 * whatever the key, so shared names would add up the users' positions in what the relay reads.
 */
export function positionKeys(accountPrefix, accountsPerUser) {
  return USERS.flatMap((user) =>
    Array.from({ length: accountsPerUser }, (_, a) => `${accountPrefix}${101 + a}-${user}`).flatMap((account) =>
      INSTRUMENTS.map((instrument) => ({ user, account, instrument })),
    ),
  );
}

/** One alert as TradingView sends it to the relay. `entry` false is the exit of that entry. */
export function relayAlert({ user, relayId, account, instrument, entry }) {
  const [action, prev, now] = entry ? ['BUY', 'flat', 'long'] : ['SELL', 'long', 'flat'];
  return (
    `relay_user=${user}; relay_id=${relayId}; command=PLACE; account=${account}; instrument=${instrument}; ` +
    `action=${action}; qty=1; order_type=MARKET; tif=DAY; prev_market_position=${prev}; market_position=${now};`
  );
}

/** What the relay forwards for `relayAlert(alert)`: relay fields stripped, the user's key first. */
export function forwardedAlert(alert) {
  return formatForward(parseAlertText(relayAlert(alert)), crosstradeKey(alert.user), RELAY_FIELDS);
}

/** The owner's own strategy for a key: one relay_id per instrument. */
function ownerId(key) {
  return `S-${key.instrument.split(' ')[0]}`;
}

/**
 * Forwarded path: alerts alternate between two lanes of keys, each half of `keys`. Every visit to
 * a key flips it: entry, then exit, then entry again, always from the key's owner, so every alert
 * is forwarded. The first lane starts flat, the second starts held (`heldAtStart`, primed by
 * measure.js before any load), so from the first alert on, half of the alerts are entries and half
 * are the owners' exits: since issue 7 an owner's exit is confirmed against the account (a
 * positions read, unless the position cache answers), which is the cost this path must show.
 * Each target needs accounts of its own in the simulator's book for the same reason.
 * The same text comes back only after 2N alerts (N = 5,000), with the strategy's other alert on
 * that key in between: a legitimate repeat for the relay since issue 7 (RELAY_DEDUP_SECONDS 30),
 * and older than the 3 s duplicate window of a build before it. `target` 'relay' gives relay alerts
 * to /webhook; 'upstream' gives the forwarded bytes to the user's webhook path.
 */
export function ownerFlow(keys, target, webhookPaths) {
  const half = Math.floor(keys.length / 2);
  let n = 0;
  return () => {
    const lane = n % 2;
    const visit = Math.floor(n / 2);
    const key = keys[lane * half + (visit % half)];
    const alert = { ...key, relayId: ownerId(key), entry: (Math.floor(visit / half) + lane) % 2 === 0 };
    n += 1;
    return target === 'relay' ? { path: '/webhook', body: relayAlert(alert) } : { path: webhookPaths[key.user], body: forwardedAlert(alert) };
  };
}

/** The keys of ownerFlow's second lane: their owners enter once before the load starts. */
export function heldAtStart(keys) {
  return keys.slice(Math.floor(keys.length / 2), 2 * Math.floor(keys.length / 2));
}

/** The owners' entries of `keys`, one per key, to the relay's /webhook. */
export function ownerEntries(keys) {
  return keys.map((key) => ({ path: '/webhook', body: relayAlert({ ...key, relayId: ownerId(key), entry: true }) }));
}

/**
 * Blocked path: entries from twenty rival strategies on keys someone else owns. Each pass over
 * the keys moves every key on to its next rival, so one text comes back only after 20N alerts.
 */
export function rivalFlow(keys) {
  let n = 0;
  return () => {
    const key = keys[n % keys.length];
    const rival = (Math.floor(n / keys.length) + n) % 20;
    const body = relayAlert({ ...key, relayId: `R${rival}`, entry: true });
    n += 1;
    return { path: '/webhook', body };
  };
}

/**
 * Contested burst: every connection is one strategy, and the j-th alert of each connection enters
 * key j, so each fresh key gets one entry from every strategy at about the same moment.
 * `label` keeps the keys of separate runs apart.
 */
export function burstFlow(label) {
  return (connection) => {
    let j = 0;
    return () => {
      const alert = { user: USERS[j % USERS.length], account: `Burst${label}x${j}`, instrument: 'ES 03-27', relayId: `S${connection}`, entry: true };
      j += 1;
      return { path: '/webhook', body: relayAlert(alert) };
    };
  };
}
