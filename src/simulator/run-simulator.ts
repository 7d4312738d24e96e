// `trade-relay crosstrade-sim --port N`: starts the simulator and prints what to configure.
import { type Simulator, startSimulator, type WebhookEvent } from './create-simulator.js';
import { describeWebhook } from './describe-webhook.js';

/**
 * `quiet`: no line per order (only where it listens). `notConnected`: the API and the webhook answer 408 as
 * CrossTrade does while NinjaTrader or its add-on is not connected (to try the relay's blocks and notifications).
 */
export async function runSimulator(opts: {
  host: string;
  port: number;
  key: string;
  quiet?: boolean;
  notConnected?: boolean;
  print: (line: string) => void;
}): Promise<Simulator> {
  const onWebhook = opts.quiet
    ? undefined
    : (event: WebhookEvent) => {
        for (const line of describeWebhook(event)) opts.print(line);
      };
  const simulator = await startSimulator({ host: opts.host, port: opts.port, keys: [opts.key], onWebhook });
  opts.print(`CrossTrade simulator listening on ${simulator.url}`);
  opts.print(`Webhook URL (a user's CrossTrade webhook): ${simulator.webhookUrl(opts.key)}`);
  opts.print(`API URL (CROSSTRADE_API_URL): ${simulator.url}`);
  opts.print(`Key (webhook key and API bearer token): ${opts.key}`);
  opts.print(`The book: ${simulator.url}/book (from this machine)${opts.quiet ? '' : '; each order and the book after it are printed below'}`);
  if (opts.notConnected) {
    simulator.failApi({ kind: 'status', status: 408 });
    simulator.failWebhook({ kind: 'status', status: 408 });
    opts.print('NinjaTrader is not connected (--not-connected): the API and the webhook answer 408 until the simulator is restarted without it');
  }
  return simulator;
}
