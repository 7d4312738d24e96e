import { describe, expect, it } from 'vitest';
import { explainCode, explainReason, withExplanation } from '../../src/crosstrade/explain-reason.js';
import { httpReason } from '../../src/crosstrade/errors.js';
import { outcomeForError, outcomeForStatus } from '../../src/crosstrade/forward-outcome.js';

const KEY_REFUSED = "CrossTrade refused the key (check the key in add-user / CrossTrade's account settings)";
const NOT_CONNECTED = 'NinjaTrader is not connected to CrossTrade (start NinjaTrader and the CrossTrade add-on)';
const RATE_LIMIT = "over CrossTrade's rate limit (180 calls a minute per user)";

describe("CrossTrade's answers in words", () => {
  it.each([
    [401, KEY_REFUSED],
    [403, KEY_REFUSED],
    [408, NOT_CONNECTED],
    [429, RATE_LIMIT],
    [502, 'CrossTrade answered an error (HTTP 502): outcome unknown, the order may have been placed'],
    [400, "CrossTrade refused the order (HTTP 400): check the alert's fields"],
    [404, 'CrossTrade does not know this webhook URL: check it in add-user'],
  ])('explains a forward answered %i', (status, words) => {
    const outcome = outcomeForStatus(status, '');
    expect(outcome.ok).toBe(false);
    expect(explainCode(outcome.ok ? '' : outcome.reason)).toBe(words);
  });

  it.each([
    [401, KEY_REFUSED],
    [408, NOT_CONNECTED],
    [429, RATE_LIMIT],
    [500, 'CrossTrade answered an error (HTTP 500): the position is unknown'],
  ])('explains a position check answered %i', (status, words) => {
    expect(explainCode(httpReason(status))).toBe(words);
  });

  it("explains a check the relay's own API budget did not allow, in the reason the relay writes", () => {
    const reason =
      'position-check-failed: confirm: the account is checked for a position changed outside the relay; CrossTrade check failed (api-budget-spent)';
    expect(explainReason(reason)).toBe(
      "the relay spent this CrossTrade user's API budget (bursts of 20 calls, then RELAY_API_CALLS_PER_MIN, 3 a second by default), counted by every relay instance: the position could not be checked, so the alert was decided as on a failed check",
    );
  });

  it('explains timeouts and broken connections as an unknown outcome', () => {
    const timeout = outcomeForError(new Error('x'), true);
    expect(explainCode(timeout.ok ? '' : timeout.reason)).toBe('CrossTrade did not answer in time: outcome unknown, the order may have been placed');
    expect(explainCode('upstream-connection-lost')).toMatch(/outcome unknown/);
    expect(explainCode('api-timeout')).toBe('CrossTrade did not answer in time: the position is unknown');
    expect(explainCode('upstream-connection-refused')).toMatch(/^CrossTrade could not be reached \(nothing was sent\)/);
  });

  it('finds the codes inside a decision reason, once each, and knows none elsewhere', () => {
    expect(explainReason('forward-failed: upstream-http-401; nothing was placed')).toBe(KEY_REFUSED);
    expect(explainReason('position-check-failed: entry, CrossTrade check failed (api-not-connected-408)')).toBe(NOT_CONNECTED);
    expect(explainReason('Sim101: x (api-rate-limited-429); Sim102: y (api-rate-limited-429)')).toBe(RATE_LIMIT);
    expect(explainReason('not-owner: the entry of B is blocked')).toBeNull();
    expect(explainCode('api-something-new')).toBeNull();
  });

  it('adds the words after the reason in brackets', () => {
    expect(withExplanation('forward-failed: upstream-http-403; nothing was placed')).toBe(
      `forward-failed: upstream-http-403; nothing was placed [${KEY_REFUSED}]`,
    );
    expect(withExplanation('forwarded')).toBe('forwarded');
  });
});
