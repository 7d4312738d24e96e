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
