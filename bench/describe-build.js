import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Which build a dist/cli/main.js is: the commit of its checkout, and whether src/ had changes not
 * committed (the figures then belong to that working tree, not to the commit). Path only outside git.
 */
export function describeBuild(cli) {
  const root = path.resolve(path.dirname(cli), '../..');
  const git = (...args) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `${commit}${dirty ? ' with uncommitted changes in src/' : ''} (${root})`;
  } catch {
    return root;
  }
}
