import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Runs `systemd-analyze verify` on a unit text (as trade-relay.service in `dir`) and returns what it
 * printed: empty for a clean unit. It parses the unit as systemd does and checks that the program
 * exists, so a quoting mistake in ExecStart shows as "not executable" or "Unbalanced quoting".
 * .ci/run installs Debian's systemd package when systemd-analyze is missing.
 */
export function verifyUnit(unitText: string, dir: string): { code: number | null; output: string } {
  const file = path.join(dir, 'trade-relay.service');
  fs.writeFileSync(file, unitText);
  const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  if (result.error) throw new Error(`systemd-analyze is needed for this test (Debian: apt-get install systemd): ${result.error.message}`);
  return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** The version of the systemd-analyze on this machine ("systemd 252 (252.38-1~deb12u1)"). */
export function installedSystemdVersion(): number {
  const result = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const match = /^systemd (\d+)/.exec(result.stdout ?? '');
  if (!match) throw new Error(`systemd-analyze is needed for this test (Debian: apt-get install systemd): ${result.error?.message ?? result.stdout}`);
  return Number(match[1]);
}
