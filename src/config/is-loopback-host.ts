import net from 'node:net';

/** `localhost`, `::1` or 127.x.y.z, as a URL's hostname gives it (IPv6 in brackets or not): traffic that never leaves this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}
