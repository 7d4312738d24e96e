// `trade-relay crosstrade-sim --port N`: starts the simulator and prints what to configure.
import { startSimulator, type Simulator } from './create-simulator.js';

export async function runSimulator(opts: { host: string; port: number; key: string; print: (line: string) => void }): Promise<Simulator> {
  const simulator = await startSimulator({ host: opts.host, port: opts.port, keys: [opts.key] });
  opts.print(`CrossTrade simulator listening on ${simulator.url}`);
  opts.print(`Webhook URL (a user's CrossTrade webhook): ${simulator.webhookUrl(opts.key)}`);
  opts.print(`API URL (CROSSTRADE_API_URL): ${simulator.url}`);
  opts.print(`Key (webhook key and API bearer token): ${opts.key}`);
  return simulator;
}
