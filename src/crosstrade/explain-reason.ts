// CrossTrade's answers in words a trader acts on (issue 8, case 8). The signal log keeps the
// machine-readable codes (`upstream-http-401`, `api-not-connected-408`); the application log line and
// `trade-relay logs` show these words beside them. Statuses: docs/external-systems.md §2.8, §3.2, §3.3.

/** The words for one code the CrossTrade client or the forward produce, or null for a code it does not know. */
export function explainCode(code: string): string | null {
  const forward = code.startsWith('upstream-');
  const http = /^(?:upstream|api)-http-(\d{3})$/.exec(code);
  const status = http ? Number(http[1]) : statusOfNamedCode(code);
  if (status !== null) return explainStatus(status, forward);
  switch (code) {
    case 'upstream-timeout':
      return 'CrossTrade did not answer in time: outcome unknown, the order may have been placed';
    case 'upstream-connection-lost':
      return 'the connection to CrossTrade broke before its answer: outcome unknown, the order may have been placed';
    case 'upstream-connection-refused':
    case 'upstream-network-error':
      return 'CrossTrade could not be reached (nothing was sent): check the network and the webhook URL in add-user';
    case 'database-sync-failed':
      return "the relay's database could not be written to disk (nothing was sent): check the disk and the data folder";
    case 'database-sync-too-slow':
      return "the relay's disk took too long to sync the decision (nothing was sent, so TradingView's 3 s still held): check the disk";
    case 'api-timeout':
      return 'CrossTrade did not answer in time: the position is unknown';
    case 'api-network-error':
      return 'CrossTrade could not be reached: the position is unknown (check the network and CROSSTRADE_API_URL)';
    case 'api-bad-response':
      return 'CrossTrade answered something the relay cannot read: the position is unknown';
    case 'api-budget-spent':
      return "the relay spent this CrossTrade user's API budget (bursts of 20 calls, then RELAY_API_CALLS_PER_MIN, 3 a second by default), counted by every relay instance: the position could not be checked, so the alert was decided as on a failed check";
    case 'instrument-unreadable':
      return 'the relay cannot read the instrument name, so it cannot match it with CrossTrade positions';
    default:
      return null;
  }
}

/** Every code a reason holds, explained once each, joined with "; " (null when it holds none). */
export function explainReason(reason: string): string | null {
  const words: string[] = [];
  for (const match of reason.matchAll(CODE_PATTERN)) {
    const explained = explainCode(match[0]);
    if (explained !== null && !words.includes(explained) && !reason.includes(explained)) words.push(explained);
  }
  return words.length === 0 ? null : words.join('; ');
}

/** A reason followed by its words in brackets, when it holds a code that has words and lacks them. */
export function withExplanation(reason: string): string {
  const words = explainReason(reason);
  return words === null ? reason : `${reason} [${words}]`;
}

const CODE_PATTERN = /\b(?:upstream|api)-[a-z]+(?:-[a-z0-9]+)*\b|\binstrument-unreadable\b/g;

function statusOfNamedCode(code: string): number | null {
  if (code === 'api-not-connected-408') return 408;
  if (code === 'api-rate-limited-429') return 429;
  return null;
}

function explainStatus(status: number, forward: boolean): string {
  const unknown = forward ? 'outcome unknown, the order may have been placed' : 'the position is unknown';
  if (status === 401 || status === 403) return "CrossTrade refused the key (check the key in add-user / CrossTrade's account settings)";
  if (status === 408) return 'NinjaTrader is not connected to CrossTrade (start NinjaTrader and the CrossTrade add-on)';
  if (status === 429) return "over CrossTrade's rate limit (180 calls a minute per user)";
  if (status === 404) {
    return forward ? 'CrossTrade does not know this webhook URL: check it in add-user' : 'CrossTrade does not know this API route: check CROSSTRADE_API_URL';
  }
  if (status >= 500) return `CrossTrade answered an error (HTTP ${status}): ${unknown}`;
  if (status >= 400) return `CrossTrade refused the ${forward ? 'order' : 'request'} (HTTP ${status}): check the alert's fields`;
  return `CrossTrade answered HTTP ${status}: ${unknown}`;
}
