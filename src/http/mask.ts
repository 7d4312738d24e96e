/** Shows enough of a secret to tell two apart, never enough to use one. */
export function maskSecret(secret: string): string {
  // Four characters of a short key would be too large a share of it.
  return secret.length < 16 ? '****' : `****${secret.slice(-4)}`;
}

/** A CrossTrade webhook URL carries its secret in the path (docs/external-systems.md §2.1): show the origin only. */
export function maskUrl(url: string): string {
  try {
    return `${new URL(url).origin}/****`;
  } catch {
    return '****';
  }
}
