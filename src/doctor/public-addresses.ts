import net from 'node:net';
import type os from 'node:os';

/**
 * The addresses of this host that the internet can reach directly: not loopback, private
 * (10/8, 172.16/12, 192.168/16), shared (100.64/10, carrier NAT), link-local or unique-local.
 * IPv4 only: TradingView's webhook senders use IPv4 (docs/, TradingView delivery).
 */
export function publicAddresses(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string[] {
  const found = new Set<string>();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal || info.family !== 'IPv4' || !net.isIPv4(info.address)) continue;
      if (!isPrivateIPv4(info.address)) found.add(info.address);
    }
  }
  return [...found];
}

function isPrivateIPv4(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  return (
    a === 10 ||
    a === 127 ||
    a === 0 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    a >= 224
  );
}
