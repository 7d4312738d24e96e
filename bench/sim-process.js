// The CrossTrade simulator in a process of its own, so upstream, relay and load generator never
// share an event loop. argv[2] is a JSON list of keys. Prints one `{"ready":…}` line, then answers
// JSON-line commands on stdin: `stats`, `clear-received`, `set-positions`.
import { startSimulator } from '../dist/simulator/create-simulator.js';
import { serveCommands } from './serve-commands.js';

const keys = JSON.parse(process.argv[2] ?? '["bench-key-0001"]');
const sim = await startSimulator({ keys, host: '127.0.0.1', port: 0 });

serveCommands({
  stats: () => {
    const statuses = {};
    for (const alert of sim.received) statuses[alert.status] = (statuses[alert.status] ?? 0) + 1;
    return { received: sim.received.length, statuses, apiCalls: sim.apiCalls };
  },
  // The simulator keeps every alert it receives; the bench empties the list between runs.
  'clear-received': () => {
    sim.received.length = 0;
    return null;
  },
  'set-positions': ({ positions }) => {
    for (const p of positions) sim.setPosition(p.account, p.instrument, p.marketPosition, p.quantity);
    return positions.length;
  },
});

const webhooks = Object.fromEntries(keys.map((key) => [key, sim.webhookUrl(key)]));
process.stdout.write(`${JSON.stringify({ ready: { url: sim.url, webhooks } })}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
