import { isLoopbackHost } from '../config/is-loopback-host.js';

/**
 * An `smtp://` login to another machine must go over STARTTLS: nodemailer would otherwise send the
 * password in clear to a server that does not offer it. `smtps://` is TLS from the start; a
 * loopback server (a local relay such as Postfix) never puts it on the network.
 */
export function loginNeedsStartTls(smtpUrl: string): boolean {
  const url = new URL(smtpUrl);
  return url.protocol === 'smtp:' && url.password !== '' && !isLoopbackHost(url.hostname);
}
