// node bench/profile-summary.js bench/relay-A.cpuprofile [top=25] [fnA,fnB,…]
// Self time per function and per package of a `node --cpu-prof` profile (as written by
// `npm run bench -- --profile`), so the cost of a path can be read without opening DevTools.
// Named functions also get their inclusive time (themselves and everything they call).
import fs from 'node:fs';

const [file, topArg = '25', inclusiveArg = ''] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/profile-summary.js FILE.cpuprofile [top] [function,function,…]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const top = Number(topArg);

// Each sample names the node on top of the stack; the time to the next sample is its self time.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((t, n) => t + (selfUs.get(n.id) ?? 0), 0);
const busy = total - idle;

const byFunction = new Map();
const byPackage = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0 || node.callFrame.functionName === '(idle)') continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = shortUrl(url);
  const fn = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  const pkg = packageOf(url, functionName);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}

console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / total).toFixed(0)}%)`);
print('self time by package (share of busy time)', byPackage, busy, top);
print('self time by function', byFunction, busy, top);
if (inclusiveArg !== '') print('inclusive time', inclusiveTimes(inclusiveArg.split(',')), busy, Infinity);

/** For each name: the self time of every sample with a frame of that function name on its stack. */
function inclusiveTimes(names) {
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const result = new Map(names.map((n) => [n, 0]));
  for (const [id, us] of selfUs) {
    const onStack = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) onStack.add(byId.get(at).callFrame.functionName);
    for (const name of names) if (onStack.has(name)) result.set(name, result.get(name) + us);
  }
  return result;
}

function print(title, map, of, limit) {
  console.log(`\n${title}:`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(`${((100 * us) / of).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function packageOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) return url.split('/')[0].replace(/^node:internal/, 'node:internal');
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const dist = url.indexOf('/dist/');
  return dist !== -1
    ? `relay ${url
        .slice(dist + 1)
        .split('/')
        .slice(0, 2)
        .join('/')}`
    : url;
}
