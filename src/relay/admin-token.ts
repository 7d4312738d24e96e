import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';

export const ADMIN_TOKEN_SETTING = 'admin_token';

/** A token an attacker cannot guess: 32 random bytes, URL-safe. */
function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored admin token, generated and stored on first use (when RELAY_ADMIN_TOKEN is not set). */
export function ensureAdminToken(store: Store): { token: string; generated: boolean } {
  const stored = store.getSetting(ADMIN_TOKEN_SETTING);
  if (stored !== null) return { token: stored, generated: false };
  const token = newToken();
  store.setSetting(ADMIN_TOKEN_SETTING, token);
  return { token, generated: true };
}

/** Replaces the stored admin token; a running relay uses the new one at its next request. */
export function rotateAdminToken(store: Store): string {
  const token = newToken();
  store.setSetting(ADMIN_TOKEN_SETTING, token);
  return token;
}
