import net from 'node:net';
import type os from 'node:os';

/** TradingView delivers webhooks to ports 80 and 443 only, over IPv4 (docs/external-systems.md §1.1). */
export const TRADINGVIEW_PORTS: readonly number[] = [80, 443];

export interface UrlAdviceInput {
  tls: boolean;
  /** The address the relay is bound to (RELAY_HOST / --host). */
  host: string;
  port: number;
  /** os.networkInterfaces() of this machine. */
  interfaces: ReturnType<typeof os.networkInterfaces>;
  /** Where to put RELAY_PORT=80 so that every start uses it. */
  settingsFile: string;
}

/** A start-up line: the URL to paste into TradingView (info), or exactly what to change (warn). */
export interface UrlAdvice {
  level: 'info' | 'warn';
  message: string;
}

/**
 * What the start-up log says about the TradingView webhook URL (issue 8, case 3): the URL TradingView
 * accepts when this start gives one, else what to put for the host or what to change. Pure.
 */
export function tradingViewUrlAdvice(input: UrlAdviceInput): UrlAdvice[] {
  const scheme = input.tls ? 'https' : 'http';
  if (isLoopback(input.host)) {
    return [
      {
        level: 'info',
        message:
          `listening on ${input.host} only: TradingView cannot reach this address. Behind a reverse proxy on 80/443, the TradingView ` +
          "webhook URL is the proxy's: https://<your domain>/webhook (or http://<public IPv4>/webhook on port 80)",
      },
    ];
  }
  const wildcard = input.host === '0.0.0.0' || input.host === '::';
  const own = wildcard ? ipv4Addresses(input.interfaces) : net.isIPv4(input.host) ? [input.host] : [];
  const publicAddresses = own.filter(isPublicIPv4);
  const portPart = (input.tls && input.port === 443) || (!input.tls && input.port === 80) ? '' : `:${input.port}`;
  if (!TRADINGVIEW_PORTS.includes(input.port)) {
    const host = publicAddresses[0] ?? '<public IPv4 of this server>';
    return [
      {
        level: 'warn',
        message:
          `no TradingView URL on port ${input.port}: TradingView only delivers webhooks to ports 80 and 443. Start with --port 80 ` +
          `(or put RELAY_PORT=80 in ${input.settingsFile}), then use http://${host}/webhook; or put HTTPS on 443 in front of ` +
          `port ${input.port} (a reverse proxy) and use https://<your domain>/webhook. See README, "TradingView and ports"`,
      },
    ];
  }
  if (input.tls) {
    return [
      {
        level: 'info',
        message: `TradingView webhook URL: https://<your domain>${portPart}/webhook (the domain your certificate RELAY_TLS_CERT is for)`,
      },
    ];
  }
  if (publicAddresses.length > 0) {
    return publicAddresses.map((address) => ({ level: 'info', message: `TradingView webhook URL: ${scheme}://${address}${portPart}/webhook` }));
  }
  const seen = own.length > 0 ? ` (it has ${own.join(', ')})` : '';
  return [
    {
      level: 'warn',
      message:
        `TradingView webhook URL: ${scheme}://<public IPv4 of this server>${portPart}/webhook. This machine has no public IPv4 address ` +
        `on its network interfaces${seen}: put the address you reach the server at from the internet (your VPS provider shows it), ` +
        `and make sure port ${input.port} is forwarded to this machine and open in its firewall`,
    },
  ];
}

function ipv4Addresses(interfaces: UrlAdviceInput['interfaces']): string[] {
  const found: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal && !found.includes(info.address)) found.push(info.address);
    }
  }
  return found;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

/** Reachable from the internet: not private (RFC 1918), loopback, link-local, carrier-grade NAT or unspecified. */
export function isPublicIPv4(address: string): boolean {
  if (!net.isIPv4(address)) return false;
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 169 && b === 254) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  return true;
}
