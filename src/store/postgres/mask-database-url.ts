/**
 * A PostgreSQL URL as it may be shown (logs, errors, doctor): the password replaced by ***, the query
 * string (which may carry `password=` or TLS keys) left out. Never throws; a URL that cannot be read
 * is shown as `<invalid database URL>`, since the text itself may hold a password.
 */
export function maskDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<invalid database URL>';
  }
  const user = parsed.username === '' ? '' : `${parsed.username}${parsed.password === '' ? '' : ':***'}@`;
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`;
}
