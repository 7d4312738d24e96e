/** The console's session cookie: its name, and how long a session lasts (ms) before the token is asked for again. */
export const SESSION_COOKIE = { name: 'relay_console', ttlMs: 12 * 60 * 60_000 } as const;
