import { request } from 'undici';
import { errorCode } from '../crosstrade/forward-outcome.js';
import { parsePositionsBody } from '../crosstrade/parse-position.js';
import { readBody } from '../crosstrade/read-body.js';

export type ProbeOutcome =
  | { kind: 'answered'; openPositions: number }
  | { kind: 'refused-key'; status: number }
  | { kind: 'not-connected' }
  | { kind: 'rate-limited' }
  | { kind: 'http'; status: number }
  | { kind: 'bad-response' }
  | { kind: 'unreachable'; reason: string };

/**
 * Asks CrossTrade's API for every position of the key's accounts (`GET /v1/api/positions`, the
 * documented route that needs no account name, docs/external-systems.md §3.4), once. Never throws; never puts the key anywhere
 * but the Authorization header.
 */
export async function probeCrossTrade(apiBaseUrl: string, apiKey: string, timeoutMs: number): Promise<ProbeOutcome> {
  const url = `${apiBaseUrl.replace(/\/+$/, '')}/v1/api/positions`;
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method: 'GET',
      headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = response.statusCode;
    text = (await readBody(response.body, 1024 * 1024, 1024 * 1024)).text;
  } catch (error) {
    if (signal.aborted) return { kind: 'unreachable', reason: `no answer within ${timeoutMs} ms` };
    return { kind: 'unreachable', reason: errorCode(error) ?? 'network error' };
  }
  if (status === 401 || status === 403) return { kind: 'refused-key', status };
  if (status === 408) return { kind: 'not-connected' };
  if (status === 429) return { kind: 'rate-limited' };
  if (status < 200 || status >= 300) return { kind: 'http', status };
  try {
    const positions = parsePositionsBody(JSON.parse(text));
    return { kind: 'answered', openPositions: positions.filter((p) => p.marketPosition !== 'flat').length };
  } catch {
    return { kind: 'bad-response' };
  }
}
