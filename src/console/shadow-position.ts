/**
 * The position a strategy believed it held after an alert, from its own `market_position` and
 * `market_position_size` fields in the stored alert text (key=value; or JSON), e.g. `long 2`;
 * null when the alert did not say. Tolerant: the stored text may be cut or have secrets removed.
 */
export function shadowPosition(alert: string): string | null {
  const position = field(alert, 'market_position');
  if (position === null) return null;
  const size = field(alert, 'market_position_size');
  const direction = position.toLowerCase();
  if (direction !== 'long' && direction !== 'short' && direction !== 'flat') return null;
  return size === null || direction === 'flat' || !/^\d+(\.\d+)?$/.test(size) ? direction : `${direction} ${size}`;
}

function field(alert: string, name: string): string | null {
  const json = readJson(alert);
  if (json !== null) {
    const entry = Object.entries(json).find(([key]) => key.trim().toLowerCase() === name);
    const value = entry?.[1];
    return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : null;
  }
  const match = new RegExp(`(?:^|[;\\r\\n])\\s*${name}\\s*=([^;\\r\\n]*)`, 'i').exec(alert);
  return match === null ? null : match[1]!.trim();
}

function readJson(text: string): Record<string, unknown> | null {
  if (!text.trimStart().startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
