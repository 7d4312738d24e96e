import type os from 'node:os';
import { isPublicIPv4 } from '../config/tradingview-url.js';

/**
 * The addresses of this host that the internet can reach directly (config/tradingview-url.ts
 * isPublicIPv4). IPv4 only: TradingView delivers over IPv4 (docs/external-systems.md §1.1).
 */
export function publicAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  const found = new Set<string>();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) if (!info.internal && info.family === 'IPv4' && isPublicIPv4(info.address)) found.add(info.address);
  }
  return [...found];
}
