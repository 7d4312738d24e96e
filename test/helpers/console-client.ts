import { ADMIN_TOKEN } from './start-test-relay.js';

export interface ConsoleAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** A logged-in console visitor: its cookie, the CSRF token of its pages, and requests that carry them. */
export interface ConsoleClient {
  cookie: string;
  csrf: string;
  get(path: string): Promise<ConsoleAnswer>;
  /** POSTs a form (with the CSRF token unless `fields._csrf` is given, or null to leave it out). */
  post(path: string, fields: Record<string, string | null>, headers?: Record<string, string>): Promise<ConsoleAnswer>;
}

/** Requests a console path without following redirects. */
export async function consoleRequest(baseUrl: string, path: string, init: RequestInit = {}): Promise<ConsoleAnswer> {
  const response = await fetch(`${baseUrl}${path}`, { redirect: 'manual', ...init });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Posts the login form; answers the raw answer (303 and a cookie when the token is right). */
export function postLogin(baseUrl: string, token: string): Promise<ConsoleAnswer> {
  return consoleRequest(baseUrl, '/console/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
}

/** The CSRF token a page's forms carry. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (match === null) throw new Error('the page has no CSRF token');
  return match[1]!;
}

/** Logs in with the admin token (default: the test rig's) and reads the CSRF token from the Now page. */
export async function loginConsole(baseUrl: string, token = ADMIN_TOKEN): Promise<ConsoleClient> {
  const login = await postLogin(baseUrl, token);
  if (login.status !== 303) throw new Error(`login answered ${login.status}: ${login.text}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const get = (path: string) => consoleRequest(baseUrl, path, { headers: { cookie } });
  const csrf = csrfOf((await get('/')).text);
  return {
    cookie,
    csrf,
    get,
    post(path, fields, headers = {}) {
      const form = new URLSearchParams();
      for (const [name, value] of Object.entries({ _csrf: csrf, ...fields })) if (value !== null) form.set(name, value);
      return consoleRequest(baseUrl, path, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: form.toString(),
      });
    },
  };
}

/** An open /console/events stream: the `row` events read so far (their data parsed). */
export interface EventStream {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: rows are asserted field by field in tests
  rows: any[];
  /** The raw text read so far (comments and `retry:` included). */
  text(): string;
  close(): void;
}

/** Opens the console's Server-Sent Events stream with a session cookie and reads it in the background. */
export async function openEvents(baseUrl: string, cookie: string, after?: number): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/console/events${after === undefined ? '' : `?after=${after}`}`, {
    headers: { cookie, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const stream: EventStream = { status: response.status, rows: [], text: () => raw, close: () => controller.abort() };
  let raw = '';
  let pending = '';
  void (async () => {
    try {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        raw += text;
        pending += text;
        let end = pending.indexOf('\n\n');
        while (end !== -1) {
          const event = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event);
          if (/^event: row$/m.test(event) && data !== null) stream.rows.push(JSON.parse(data[1]!));
          end = pending.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by close(), or the server ended the stream.
    }
  })();
  return stream;
}
