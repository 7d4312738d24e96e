import { type CheckLine, fail, ok, warn } from './check-line.js';
import type { ProbeOutcome } from './probe-crosstrade.js';

/**
 * What CrossTrade's answer to one user's key says, as checklist lines: the API reachable, the key
 * accepted (401/403: CrossTrade refused the key), NinjaTrader connected (408). A line that the answer
 * cannot tell is left out. A paper user does not need CrossTrade until it goes live: its failures are warnings.
 */
export function checkCrossTradeApi(relayUser: string, outcome: ProbeOutcome, origin: string, paper: boolean): CheckLine[] {
  const label = (what: string) => `user ${relayUser}: ${what}`;
  const bad = (what: string, detail: string, fix: string) =>
    paper ? warn(label(what), `${detail} (paper mode: not needed until the user goes live)`, fix) : fail(label(what), detail, fix);
  const reachable = ok(label('CrossTrade API reachable'), origin);
  const keyFix = `copy the API key from your CrossTrade account and save it again: npx trade-relay add-user --user ${relayUser}`;
  switch (outcome.kind) {
    case 'answered':
      return [
        reachable,
        ok(label('CrossTrade key accepted'), 'yes'),
        ok(label('NinjaTrader connected'), `yes (${outcome.openPositions} open position${outcome.openPositions === 1 ? '' : 's'})`),
      ];
    case 'refused-key':
      return [reachable, bad('CrossTrade key accepted', `no: CrossTrade refused the key (HTTP ${outcome.status})`, keyFix)];
    case 'not-connected':
      return [
        reachable,
        bad(
          'NinjaTrader connected',
          'no: NinjaTrader is not connected to CrossTrade (HTTP 408); every position check fails and entries are blocked',
          'start NinjaTrader 8, log in and enable the CrossTrade add-on, then run doctor again',
        ),
      ];
    case 'rate-limited':
      return [reachable, warn(label('CrossTrade key accepted'), "not known: over CrossTrade's request limit (HTTP 429)", 'wait a minute and run doctor again')];
    case 'http':
      return [reachable, bad('CrossTrade API answer', `HTTP ${outcome.status}`, 'check CROSSTRADE_API_URL and CrossTrade status; run doctor again later')];
    case 'bad-response':
      return [reachable, bad('CrossTrade API answer', 'not a positions list', 'check CROSSTRADE_API_URL: it must be https://app.crosstrade.io')];
    case 'unreachable':
      return [
        bad(
          'CrossTrade API reachable',
          `no answer from ${origin} (${outcome.reason})`,
          "check this machine's internet connection, firewall and CROSSTRADE_API_URL (default https://app.crosstrade.io)",
        ),
      ];
  }
}
