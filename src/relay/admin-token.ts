import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';

export const ADMIN_TOKEN_SETTING = 'admin_token';

/** A token an attacker cannot guess: 32 random bytes, URL-safe. */
function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored admin token, generated and stored on first use (when RELAY_ADMIN_TOKEN is not set). */
export async function ensureAdminToken(store: Store): Promise<{ token: string; generated: boolean }> {
  const stored = await store.getSetting(ADMIN_TOKEN_SETTING);
  if (stored !== null) return { token: stored, generated: false };
  const token = newToken();
  await store.setSetting(ADMIN_TOKEN_SETTING, token);
  return { token, generated: true };
}

/** Replaces the stored admin token; a running relay uses the new one at its next request. */
export async function rotateAdminToken(store: Store): Promise<string> {
  const token = newToken();
  await store.setSetting(ADMIN_TOKEN_SETTING, token);
  return token;
}

/** Which token a relay accepts: RELAY_ADMIN_TOKEN (environment or settings file) or the one stored in the database. */
export type AdminTokenSource = 'RELAY_ADMIN_TOKEN' | 'stored';

/** Where the last relay started on this database took its token from, and when (issue 8, case 2). */
export const ADMIN_TOKEN_SOURCE_SETTING = 'admin_token_source';

export interface RecordedTokenSource {
  source: AdminTokenSource;
  /** ISO time of the start that recorded it. */
  since: string;
}

/**
 * Recorded by `start`, read by `admin-token`: a relay started with RELAY_ADMIN_TOKEN in its own
 * environment refuses the stored token, and a command run from another shell cannot see that
 * environment. The token itself is never recorded.
 */
export async function recordAdminTokenSource(store: Store, source: AdminTokenSource, now: number): Promise<void> {
  await store.setSetting(ADMIN_TOKEN_SOURCE_SETTING, JSON.stringify({ source, since: new Date(now).toISOString() }));
}

export async function readAdminTokenSource(store: Store): Promise<RecordedTokenSource | null> {
  const raw = await store.getSetting(ADMIN_TOKEN_SOURCE_SETTING);
  if (raw === null) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<RecordedTokenSource>;
    if ((parsed.source === 'RELAY_ADMIN_TOKEN' || parsed.source === 'stored') && typeof parsed.since === 'string') {
      return { source: parsed.source, since: parsed.since };
    }
  } catch {
    // An unreadable record says nothing: fall through.
  }
  return null;
}
