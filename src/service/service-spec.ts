/** The name of the service on both systems: `trade-relay.service` on Linux, the `trade-relay` service on Windows. */
export const SERVICE_NAME = 'trade-relay';

/**
 * What a service definition pins, all absolute: the node binary in use, the install folder and the
 * data folder. The service runs `<nodePath> <scriptPath> start` from `installDir` with
 * `RELAY_HOME=<home>`, so it opens the same database, log and settings file as the command line.
 */
export interface ServiceSpec {
  nodePath: string;
  installDir: string;
  /** `<installDir>/bin/trade-relay.js` */
  scriptPath: string;
  home: string;
  /** Linux only: the account the relay runs as; undefined or `root` runs it as root. */
  user?: string;
}

/** A path or name a service definition cannot hold safely: the message says which and why. */
export class ServiceDefinitionError extends Error {
  override name = 'ServiceDefinitionError';
}

/** A failure of the service command (not root, systemctl or WinSW failed, no WinSW), with what to do about it. */
export class ServiceCommandError extends Error {
  override name = 'ServiceCommandError';
}

export interface ServiceState {
  installed: boolean;
  running: boolean;
  /** Starts at boot. */
  enabled: boolean;
}
