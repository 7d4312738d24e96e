// The CrossTrade client: position reads for the relay's check, and the webhook forward.
// One keep-alive undici Agent; every call has one deadline (an AbortSignal covering connect,
// headers and body) plus undici's own headers/body timeouts, so nothing outlives its timeout.
// Facts: docs/external-systems.md §1.1 (the 3 s budget), §2.8, §3.2-§3.4.
import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import type { PositionReading } from '../engine/types.js';
import {
  CrossTradeBadResponseError,
  CrossTradeError,
  CrossTradeHttpError,
  CrossTradeNetworkError,
  CrossTradeTimeoutError,
  type CrossTradeCallContext,
} from './errors.js';
import { errorCode, outcomeForError, outcomeForStatus, type ForwardOutcome } from './forward-outcome.js';
import { parseInstrument } from '../signal/instrument.js';
import { parsePositionsBody, readingFor, type ApiPosition } from './parse-position.js';
import { readBody, type ResponseBody } from './read-body.js';

export type { ForwardOutcome } from './forward-outcome.js';

export interface CrossTradeClientOptions {
  /** `https://app.crosstrade.io`; every route starts `/v1/api/`. */
  apiBaseUrl: string;
  apiTimeoutMs: number;
  forwardTimeoutMs: number;
  /** How long a successful positions answer is reused per (key, account). Default 1000. */
  positionCacheMs?: number;
  now?: () => number;
}

export interface CrossTradeClient {
  /** The account's open positions. Throws CrossTradeHttpError / TimeoutError / NetworkError / BadResponseError. */
  getPositions(account: string, apiKey: string): Promise<ApiPosition[]>;
  /**
   * The reading for the instrument's product on the account. Never throws: failures read `unknown`.
   * `timeoutMs` (default the API timeout) bounds this caller's wait when less time is left; an answer
   * asked for before `notBefore` (ms epoch, default 0) is not reused: it may predate what the caller knows.
   */
  readPosition(account: string, instrument: string, apiKey: string, timeoutMs?: number, notBefore?: number): Promise<PositionReading>;
  /** POSTs the alert text once, never retried. Never throws. */
  forward(webhookUrl: string, body: string): Promise<ForwardOutcome>;
  /** Drops the cached answer for the account: an order was just sent there, so it is out of date. */
  forget(account: string, apiKey: string): void;
  close(): Promise<void>;
}

const API_BODY_LIMIT = 1024 * 1024;
const FORWARD_BODY_KEEP = 4 * 1024;
const FORWARD_BODY_DRAIN = 64 * 1024;

interface Answer {
  positions: ApiPosition[];
  takenAt: number;
}

export function createCrossTradeClient(options: CrossTradeClientOptions): CrossTradeClient {
  const { apiTimeoutMs, forwardTimeoutMs, positionCacheMs = 1000, now = Date.now } = options;
  const apiBase = options.apiBaseUrl.replace(/\/+$/, '');
  const origin = new URL(apiBase).origin;
  const agent = new Agent({
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: Math.max(apiTimeoutMs, forwardTimeoutMs) },
  });
  // Coalescing and cache per (user, account): the budget is 180 calls/min per user (docs/external-systems.md §3.2).
  const inflight = new Map<string, { call: Promise<Answer>; askedAt: number }>();
  const cache = new Map<string, Answer>();
  let closed = false;

  async function getPositions(account: string, apiKey: string): Promise<ApiPosition[]> {
    const context: CrossTradeCallContext = { origin, account };
    const signal = AbortSignal.timeout(apiTimeoutMs);
    let status: number;
    let text: string;
    try {
      // Inside the try: encodeURIComponent throws on a lone surrogate.
      const url = `${apiBase}/v1/api/accounts/${encodeURIComponent(account)}/positions`;
      const response = await request(url, {
        dispatcher: agent,
        method: 'GET',
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
        signal,
        headersTimeout: apiTimeoutMs,
        bodyTimeout: apiTimeoutMs,
      });
      status = response.statusCode;
      const body = await readBody(response.body, API_BODY_LIMIT, API_BODY_LIMIT);
      if (body.truncated) throw new CrossTradeBadResponseError('body too large', context);
      text = body.text;
    } catch (error) {
      throw asCrossTradeError(error, signal.aborted, apiTimeoutMs, context);
    }
    if (status < 200 || status >= 300) throw new CrossTradeHttpError(status, bodyErrorCode(text, apiKey), context);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CrossTradeBadResponseError('not JSON', context);
    }
    return parsePositionsBody(json, context);
  }

  function answerFor(account: string, apiKey: string, notBefore: number): Promise<Answer> {
    const key = cacheKey(account, apiKey);
    const cached = cache.get(key);
    if (cached !== undefined && now() - cached.takenAt < positionCacheMs && cached.takenAt >= notBefore) return Promise.resolve(cached);
    const pending = inflight.get(key);
    if (pending !== undefined && pending.askedAt >= notBefore) return pending.call;

    // Stamped when asked, not when answered: the reading describes the account no later than
    // the request, so a request sent inside an owner's hold never counts as "after the hold".
    const askedAt = now();
    const call = getPositions(account, apiKey)
      .then((positions) => {
        const answer = { positions, takenAt: askedAt };
        pruneCache();
        cache.set(key, answer);
        return answer;
      })
      .finally(() => {
        if (inflight.get(key)?.call === call) inflight.delete(key);
      });
    inflight.set(key, { call, askedAt });
    return call;
  }

  function cacheKey(account: string, apiKey: string): string {
    return `${createHash('sha256').update(apiKey).digest('hex')}:${account.toLowerCase()}`;
  }

  function forget(account: string, apiKey: string): void {
    cache.delete(cacheKey(account, apiKey));
  }

  function pruneCache(): void {
    const at = now();
    for (const [key, answer] of cache) if (at - answer.takenAt >= positionCacheMs) cache.delete(key);
  }

  async function readPosition(account: string, instrument: string, apiKey: string, timeoutMs = apiTimeoutMs, notBefore = 0): Promise<PositionReading> {
    // An alert name we cannot read gives `unknown` whatever the API says: spare the call budget.
    if (parseInstrument(instrument, new Date(now()).getUTCFullYear()) === null) {
      return { kind: 'unknown', takenAt: now(), reason: 'instrument-unreadable' };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = answerFor(account, apiKey, notBefore);
      const { positions, takenAt } =
        timeoutMs >= apiTimeoutMs
          ? await answer
          : await Promise.race([
              answer,
              new Promise<never>((_resolve, reject) => {
                timer = setTimeout(() => reject(new CrossTradeTimeoutError(timeoutMs)), Math.max(0, timeoutMs));
              }),
            ]);
      return readingFor(positions, account, instrument, takenAt, new Date(takenAt).getUTCFullYear());
    } catch (error) {
      const reason = error instanceof CrossTradeError ? error.reason : 'api-network-error';
      return { kind: 'unknown', takenAt: now(), reason };
    } finally {
      clearTimeout(timer);
    }
  }

  async function forward(webhookUrl: string, body: string): Promise<ForwardOutcome> {
    // After close() nothing can be sent: say so definitely rather than as a lost connection.
    if (closed) return { ok: false, ambiguous: false, reason: 'upstream-network-error', status: null };
    const signal = AbortSignal.timeout(forwardTimeoutMs);
    let status: number;
    let responseBody: ResponseBody;
    try {
      const response = await request(webhookUrl, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
        signal,
        headersTimeout: forwardTimeoutMs,
        bodyTimeout: forwardTimeoutMs,
      });
      status = response.statusCode;
      responseBody = response.body;
    } catch (error) {
      return outcomeForError(error, signal.aborted);
    }
    // The status decides; a body lost after it arrived changes nothing.
    const text = await readBody(responseBody, FORWARD_BODY_KEEP, FORWARD_BODY_DRAIN).then(
      (read) => read.text,
      () => '',
    );
    return outcomeForStatus(status, text);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    cache.clear();
    await agent.close();
  }

  return { getPositions, readPosition, forward, forget, close };
}

function asCrossTradeError(error: unknown, timedOut: boolean, timeoutMs: number, context: CrossTradeCallContext): CrossTradeError {
  if (error instanceof CrossTradeError) return error;
  const code = errorCode(error);
  if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new CrossTradeTimeoutError(timeoutMs, context);
  }
  return new CrossTradeNetworkError(error, code, context);
}

/** The body's `error` field, short and with the key masked should a server ever echo it. */
function bodyErrorCode(text: string, apiKey: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const code = (json as { error?: unknown }).error;
  if (typeof code !== 'string' || code === '') return null;
  const masked = apiKey === '' ? code : code.split(apiKey).join('***');
  return masked.slice(0, 100);
}
