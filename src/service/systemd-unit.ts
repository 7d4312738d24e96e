import { ServiceDefinitionError, type ServiceSpec } from './service-spec.js';

export interface SystemdOptions {
  /** systemd's version (`systemctl --version`); 254 and later get an increasing restart delay. */
  systemdVersion?: number;
}

/** Seconds systemd waits after SIGTERM before it kills: the relay answers what is in flight, then exits. */
export const STOP_TIMEOUT_SECONDS = 30;

/**
 * The systemd unit for `spec` (pure). Throws ServiceDefinitionError for a path or user name a unit
 * file cannot hold (a control character, a trailing backslash, a user name systemd refuses).
 *
 * Decisions (issue 8, "a service"):
 * - Runs as `spec.user`, not root: the database is created readable by its owner only, so the
 *   service must run as the account that owns the data folder. `AmbientCapabilities=CAP_NET_BIND_SERVICE`
 *   lets that account listen on port 80, the port TradingView needs, without root.
 * - `Restart=always`: the relay only exits on its own when something is wrong (a signal from
 *   `systemctl stop` does not restart it). `StartLimitIntervalSec=0` never gives up: a relay that
 *   stopped retrying misses trades until someone looks; 5 s apart, and from systemd 254 on growing
 *   to 5 minutes, so a setting that stays wrong does not flood the log.
 * - `TimeoutStopSec`: SIGTERM lets the relay finish answering the alert in flight and close SQLite.
 */
export function renderSystemdUnit(spec: ServiceSpec, options: SystemdOptions = {}): string {
  const user = spec.user === undefined || spec.user === 'root' ? undefined : checkUser(spec.user);
  const exec = [executable(spec.nodePath), ...[spec.scriptPath, 'start'].map(execArg)].join(' ');
  const lines = [
    '# Written by `trade-relay service install`. Change it by running that command again',
    '# (`trade-relay service install --print` shows what it would write).',
    '[Unit]',
    'Description=Trade Relay (TradingView alerts to CrossTrade / NinjaTrader 8)',
    'Wants=network-online.target',
    'After=network-online.target',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    ...(user ? [`User=${user}`] : []),
    `WorkingDirectory=${plainPath(spec.installDir)}`,
    `Environment=${quoted(`RELAY_HOME=${checkText(spec.home, 'data folder')}`)}`,
    `ExecStart=${exec}`,
    'Restart=always',
    'RestartSec=5s',
    ...((options.systemdVersion ?? 0) >= 254 ? ['RestartSteps=10', 'RestartMaxDelaySec=5min'] : []),
    `TimeoutStopSec=${STOP_TIMEOUT_SECONDS}s`,
    ...(user ? ['AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE'] : []),
    'NoNewPrivileges=true',
    'PrivateTmp=true',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/** The data folder a unit written by renderSystemdUnit pins, or undefined when it has none. */
export function unitHome(unitText: string): string | undefined {
  const line = unitText.split('\n').find((l) => l.startsWith('Environment="RELAY_HOME='));
  if (!line) return undefined;
  const body = line.slice('Environment="RELAY_HOME='.length, -1);
  return body.replace(/\\(.)|%%/g, (_match, escaped: string | undefined) => escaped ?? '%');
}

function checkText(value: string, what: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new ServiceDefinitionError(`the ${what} path holds a control character (a line break?): ${JSON.stringify(value)}`);
  return value;
}

// Inside double quotes systemd undoes C escapes (\\ and \") and expands %-specifiers (%% is a %).
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, '%%')}"`;
}

// systemd refuses an executable path holding a quote or a backslash, whatever the escaping
// ("Executable name contains special characters"), and expands no $VAR in it.
function executable(value: string): string {
  if (/["'\\]/.test(checkText(value, 'node'))) {
    throw new ServiceDefinitionError(`systemd cannot run a program whose path holds a quote or a backslash: ${value}; install Node.js in another folder`);
  }
  return quoted(value);
}

// The arguments of ExecStart also expand $VAR and ${VAR}: $$ is a literal $.
function execArg(value: string): string {
  return quoted(checkText(value, 'program')).replace(/\$/g, '$$$$');
}

// WorkingDirectory= takes the rest of the line as it is (no quotes, no C escapes), %-specifiers expanded.
function plainPath(value: string): string {
  checkText(value, 'install folder');
  if (value.endsWith('\\'))
    throw new ServiceDefinitionError(`the install folder path ends with a backslash, which a unit file reads as a line continuation: ${value}`);
  if (value !== value.trim())
    throw new ServiceDefinitionError(`the install folder path starts or ends with a space, which a unit file drops: ${JSON.stringify(value)}`);
  return value.replace(/%/g, '%%');
}

function checkUser(user: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_.-]{0,30}$/.test(user) || /^\d+$/.test(user)) return user;
  throw new ServiceDefinitionError(`"${user}" is not a user name systemd accepts (letters, digits, _ . -)`);
}
