import { ServiceDefinitionError, SERVICE_NAME, type ServiceSpec } from './service-spec.js';
import { STOP_TIMEOUT_SECONDS } from './systemd-unit.js';

/**
 * The WinSW 2.x configuration (`trade-relay-service.xml`) for `spec` (pure). Throws
 * ServiceDefinitionError for a path it cannot hold: WinSW expands `%NAME%` anywhere in the file
 * and has no escape for `%`; `"` and control characters cannot be in a Windows path.
 *
 * Decisions (issue 8, "a service"):
 * - Automatic start at boot, as LocalSystem (WinSW's default account): it can read the data folder
 *   under the install folder and listen on port 80.
 * - Restart after a failure (any non-zero exit): 5 s, then 30 s, then every 60 s, counted afresh
 *   after an hour of running.
 * - Stop: WinSW sends Ctrl+C (SIGINT to node, which closes cleanly) and kills after the timeout.
 * - The console output goes to `<home>/trade-relay-service.out.log` / `.err.log`, rolled by size:
 *   it holds what the relay printed before its application log was open (a bad setting, say).
 */
export function renderWinswXml(spec: ServiceSpec): string {
  const args = [spec.scriptPath, 'start'].map((arg) => quoteWindowsArg(checkPath(arg, 'program')));
  const lines = [
    '<!-- Written by "trade-relay service install". Change it by running that command again. -->',
    '<service>',
    `  <id>${SERVICE_NAME}</id>`,
    '  <name>Trade Relay</name>',
    '  <description>Trade Relay: TradingView alerts to CrossTrade / NinjaTrader 8</description>',
    `  <executable>${text(checkPath(spec.nodePath, 'node'))}</executable>`,
    `  <arguments>${text(args.join(' '))}</arguments>`,
    `  <workingdirectory>${text(checkPath(spec.installDir, 'install folder'))}</workingdirectory>`,
    `  <env name="RELAY_HOME" value="${attribute(checkPath(spec.home, 'data folder'))}"/>`,
    '  <startmode>Automatic</startmode>',
    '  <onfailure action="restart" delay="5 sec"/>',
    '  <onfailure action="restart" delay="30 sec"/>',
    '  <onfailure action="restart" delay="60 sec"/>',
    '  <resetfailure>1 hour</resetfailure>',
    `  <stoptimeout>${STOP_TIMEOUT_SECONDS} sec</stoptimeout>`,
    `  <logpath>${text(spec.home)}</logpath>`,
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>5120</sizeThreshold>',
    '    <keepFiles>3</keepFiles>',
    '  </log>',
    '</service>',
    '',
  ];
  return lines.join('\r\n');
}

/** The data folder a file written by renderWinswXml pins, or undefined when it has none. */
export function winswHome(xmlText: string): string | undefined {
  const match = /<env name="RELAY_HOME" value="([^"]*)"\/>/.exec(xmlText);
  return match ? unxml(match[1] as string) : undefined;
}

/**
 * One argument of a Windows command line, as CommandLineToArgvW (and node.exe) reads it back:
 * in double quotes, a `"` escaped by a backslash, and the backslashes before a `"` (or the
 * closing quote) doubled.
 */
export function quoteWindowsArg(arg: string): string {
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes += 1;
      continue;
    }
    out += ch === '"' ? `${'\\'.repeat(backslashes * 2 + 1)}"` : `${'\\'.repeat(backslashes)}${ch}`;
    backslashes = 0;
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

function checkPath(value: string, what: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ServiceDefinitionError(`the ${what} path holds a control character: ${JSON.stringify(value)}`);
  if (value.includes('%'))
    throw new ServiceDefinitionError(`the ${what} path holds a "%", which WinSW would read as an environment variable: ${value}; use a folder without "%"`);
  if (value.includes('"')) throw new ServiceDefinitionError(`the ${what} path holds a double quote, which a Windows path cannot: ${value}`);
  return value;
}

function text(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attribute(value: string): string {
  return text(value).replace(/"/g, '&quot;');
}

function unxml(value: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return value.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => entities[name] as string);
}
