// The CrossTrade client: position reads for the relay's check, and the webhook forward.
// One keep-alive undici Pool per origin; every call has one deadline (a plain timer that aborts
// it, covering connect, headers and body) plus undici's own headers/body timeouts, so nothing
// outlives its timeout. A Pool and a timer, not `request(url)` through an Agent with
// AbortSignal.timeout: that costs about twice the CPU per call, and the abort signal's timer
// fires after every call and builds an error object nobody reads (issue 9, bench/RESULTS.md).
// Facts: docs/external-systems.md §1.1 (the 3 s budget), §2.8, §3.2-§3.4.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Pool } from 'undici';
import type { PositionReading } from '../engine/types.js';
import {
  CrossTradeBadResponseError,
  CrossTradeBudgetSpentError,
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
  /**
   * Takes one call from the CrossTrade user's API budget (docs/external-systems.md §3.2) before a
   * position read goes out (a cached or shared answer takes none); false: spent, the read is not
   * made and reads `unknown` with reason `api-budget-spent`. Default: no budget.
   */
  spendApiCall?: (apiKey: string) => Promise<boolean>;
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
  const apiPath = new URL(apiBase).pathname.replace(/\/+$/, '');
  const pools = new Map<string, Pool>();
  const poolFor = (at: string): Pool => {
    // After close() nothing is sent: a new pool would reopen what close() shut.
    if (closed) throw Object.assign(new Error('the CrossTrade client is closed'), { code: 'UND_ERR_CLOSED' });
    let pool = pools.get(at);
    if (pool === undefined) {
      pool = new Pool(at, { keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connect: { timeout: Math.max(apiTimeoutMs, forwardTimeoutMs) } });
      pools.set(at, pool);
    }
    return pool;
  };
  // Users' webhook URLs, parsed once each (a handful per relay).
  const targets = new Map<string, { origin: string; path: string }>();
  const targetOf = (url: string): { origin: string; path: string } => {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size > 10_000) targets.clear();
      targets.set(url, target);
    }
    return target;
  };
  // Coalescing and cache per (user, account): the budget is 180 calls/min per user (docs/external-systems.md §3.2).
  const inflight = new Map<string, { call: Promise<Answer>; askedAt: number }>();
  const cache = new Map<string, Answer>();
  let closed = false;

  async function getPositions(account: string, apiKey: string): Promise<ApiPosition[]> {
    const context: CrossTradeCallContext = { origin, account };
    const deadline = startDeadline(apiTimeoutMs);
    let status: number;
    let text: string;
    try {
      // Inside the try: encodeURIComponent throws on a lone surrogate.
      const response = await poolFor(origin).request({
        path: `${apiPath}/v1/api/accounts/${encodeURIComponent(account)}/positions`,
        method: 'GET',
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
        signal: deadline.signal,
        headersTimeout: apiTimeoutMs,
        bodyTimeout: apiTimeoutMs,
      });
      status = response.statusCode;
      const body = await readBody(response.body, API_BODY_LIMIT, API_BODY_LIMIT);
      if (body.truncated) throw new CrossTradeBadResponseError('body too large', context);
      text = body.text;
    } catch (error) {
      throw asCrossTradeError(error, deadline.expired(), apiTimeoutMs, context);
    } finally {
      deadline.clear();
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
    const spend = options.spendApiCall;
    const asked =
      spend === undefined
        ? getPositions(account, apiKey)
        : spend(apiKey).then((allowed) => {
            if (!allowed) throw new CrossTradeBudgetSpentError({ origin, account });
            return getPositions(account, apiKey);
          });
    const call = asked
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
    const deadline = startDeadline(forwardTimeoutMs);
    let status: number;
    let responseBody: ResponseBody;
    try {
      const target = targetOf(webhookUrl);
      const response = await poolFor(target.origin).request({
        path: target.path,
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
        signal: deadline.signal,
        headersTimeout: forwardTimeoutMs,
        bodyTimeout: forwardTimeoutMs,
      });
      status = response.statusCode;
      responseBody = response.body;
    } catch (error) {
      deadline.clear();
      return outcomeForError(error, deadline.expired());
    }
    // The status decides; a body lost after it arrived changes nothing.
    const text = await readBody(responseBody, FORWARD_BODY_KEEP, FORWARD_BODY_DRAIN).then(
      (read) => read.text,
      () => '',
    );
    deadline.clear();
    return outcomeForStatus(status, text);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    cache.clear();
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  }

  return { getPositions, readPosition, forward, forget, close };
}

/**
 * A call's deadline (ms): a plain timer that aborts the call through an EventEmitter, which undici
 * accepts as a signal; when the call ends first, nothing fires and no error object is built.
 */
function startDeadline(ms: number): { signal: EventEmitter; expired: () => boolean; clear: () => void } {
  const signal = new EventEmitter();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    signal.emit('abort');
  }, ms);
  return { signal, expired: () => expired, clear: () => clearTimeout(timer) };
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
