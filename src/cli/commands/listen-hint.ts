import { CliError } from './cli-error.js';

/**
 * Lets Node.js listen on ports below 1024 without root. setcap refuses a symbolic link ("Invalid file"),
 * and `node` often is one (Debian's alternatives, snap, nvm's current), so the link is resolved first.
 */
export const SETCAP_COMMAND = 'sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")"';

/** One line the user can act on for the usual reasons a listen fails; null for anything else. */
export function listenHint(error: unknown, host: string, port: number): CliError | null {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new CliError(`port ${port} is already in use on ${host}: stop the other program (another relay?) or choose another --port`);
    case 'EACCES':
      return new CliError(
        `no permission to listen on port ${port}: ports below 1024 need root or CAP_NET_BIND_SERVICE on Linux (administrator on Windows). ` +
          `Run it as the service (npx trade-relay service install), or allow it once: ${SETCAP_COMMAND}; or run on 8080 behind a reverse proxy on 80/443`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new CliError(`cannot listen on ${host}: not an address of this machine; use --host 0.0.0.0 or one of its own addresses`);
    default:
      return null;
  }
}
