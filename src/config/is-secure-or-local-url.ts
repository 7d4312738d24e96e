import { isLoopbackHost } from './is-loopback-host.js';

/** https anywhere; plain http only to a loopback host (the simulator, a local tunnel). */
export function isSecureOrLocalUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return true; // z.url reports it
  }
  if (url.protocol !== 'http:') return true;
  return isLoopbackHost(url.hostname);
}
