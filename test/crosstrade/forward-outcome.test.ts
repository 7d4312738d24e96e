import { describe, expect, it } from 'vitest';
import { errorCode, outcomeForError, outcomeForStatus } from '../../src/crosstrade/forward-outcome.js';

function coded(code: string): Error {
  return Object.assign(new Error(code), { code });
}

describe('outcomeForStatus', () => {
  it.each([200, 201, 204, 299])('treats %i as accepted', (status) => {
    expect(outcomeForStatus(status, '{"success":true}')).toEqual({ ok: true, status, body: '{"success":true}' });
  });

  it.each([400, 401, 403, 404, 408, 429, 499])('treats %i as a definite failure', (status) => {
    expect(outcomeForStatus(status, 'b')).toEqual({ ok: false, ambiguous: false, reason: `upstream-http-${status}`, status, body: 'b' });
  });

  it.each([500, 502, 503, 504, 301, 307, 100])('treats %i as ambiguous', (status) => {
    expect(outcomeForStatus(status, '')).toEqual({ ok: false, ambiguous: true, reason: `upstream-http-${status}`, status, body: '' });
  });
});

describe('outcomeForError', () => {
  it('treats our own deadline as an ambiguous timeout, whatever the error', () => {
    expect(outcomeForError(coded('ECONNREFUSED'), true)).toEqual({ ok: false, ambiguous: true, reason: 'upstream-timeout', status: null });
  });

  it.each(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])('treats %s as an ambiguous timeout', (code) => {
    expect(outcomeForError(coded(code), false)).toEqual({ ok: false, ambiguous: true, reason: 'upstream-timeout', status: null });
  });

  it('treats a refused connection as definite', () => {
    expect(outcomeForError(coded('ECONNREFUSED'), false)).toEqual({
      ok: false,
      ambiguous: false,
      reason: 'upstream-connection-refused',
      status: null,
    });
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_INVALID_ARG', 'ERR_INVALID_URL', 'CERT_HAS_EXPIRED'])(
    'treats %s (nothing sent) as a definite network error',
    (code) => {
      expect(outcomeForError(coded(code), false)).toEqual({ ok: false, ambiguous: false, reason: 'upstream-network-error', status: null });
    },
  );

  it.each(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED'])('treats %s (request may have arrived) as ambiguous', (code) => {
    expect(outcomeForError(coded(code), false)).toEqual({ ok: false, ambiguous: true, reason: 'upstream-connection-lost', status: null });
  });

  it('treats an error it does not know as ambiguous', () => {
    expect(outcomeForError(new Error('???'), false)).toEqual({ ok: false, ambiguous: true, reason: 'upstream-connection-lost', status: null });
    expect(outcomeForError('a string', false)).toEqual({ ok: false, ambiguous: true, reason: 'upstream-connection-lost', status: null });
  });
});

describe('errorCode', () => {
  it('finds the code on the error, its cause or the first of an AggregateError', () => {
    expect(errorCode(coded('ECONNREFUSED'))).toBe('ECONNREFUSED');
    expect(errorCode(new Error('wrapped', { cause: coded('ENOTFOUND') }))).toBe('ENOTFOUND');
    expect(errorCode(new AggregateError([coded('ECONNREFUSED'), coded('ENETUNREACH')]))).toBe('ECONNREFUSED');
    expect(errorCode(new Error('none'))).toBeNull();
    expect(errorCode(null)).toBeNull();
  });
});
