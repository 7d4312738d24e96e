import net from 'node:net';

/** https anywhere; plain http only to a loopback host (the simulator, a local tunnel). */
export function isSecureOrLocalUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return true; // z.url reports it
  }
  if (url.protocol !== 'http:') return true;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}
