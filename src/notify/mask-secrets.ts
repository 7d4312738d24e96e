/**
 * `text` with every secret in it replaced by `***`: the second line of defence behind error messages
 * built from safe parts. Secrets shorter than 6 characters are not masked (they would mask ordinary words).
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 6) masked = masked.split(secret).join('***');
  }
  return masked;
}
