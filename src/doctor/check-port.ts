import net from 'node:net';
import { SETCAP_COMMAND } from '../cli/commands/listen-hint.js';
import { TRADINGVIEW_PORTS } from '../config/tradingview-url.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';

/**
 * The port the relay would listen on: free (or answered by a running relay's /health), one
 * TradingView sends to, and the address TradingView would reach it on.
 */
export async function checkPort(host: string, port: number, publicAddresses: readonly string[], tls: boolean): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const listen = await tryListen(host, port);
  if (listen === 'free') lines.push(ok('port', `${port} is free on ${host}`));
  else if (listen === 'EADDRINUSE') {
    if (await answersHealth(port, tls)) lines.push(ok('port', `${port}: a relay is running on it`));
    else lines.push(fail('port', `${port} is in use by another program`, `stop that program, or choose another port: npx trade-relay start --port <n>`));
  } else if (listen === 'EACCES') {
    lines.push(
      fail(
        'port',
        `no permission to listen on ${port}: ports below 1024 need root or CAP_NET_BIND_SERVICE on Linux, administrator on Windows`,
        `run it as the service (npx trade-relay service install), or on Linux: ${SETCAP_COMMAND}`,
      ),
    );
  } else lines.push(fail('port', `cannot listen on ${host}:${port} (${listen})`, 'set RELAY_HOST to 0.0.0.0 or one of this machine’s addresses'));

  if (!TRADINGVIEW_PORTS.includes(port)) {
    lines.push(
      warn(
        'TradingView port',
        `${port}: TradingView sends webhooks to ports 80 and 443 only`,
        'start the relay on port 80 (npx trade-relay start --port 80), or 443 with RELAY_TLS_CERT/RELAY_TLS_KEY, or put a proxy on 80/443 ' +
          '(a relay already started with --port 80: give doctor the same --port, or put RELAY_PORT=80 in settings.env)',
      ),
    );
  } else if (port === 443 && !tls) {
    lines.push(fail('TradingView port', '443 without TLS: TradingView speaks https on 443', 'set RELAY_TLS_CERT and RELAY_TLS_KEY, or use port 80'));
  } else lines.push(ok('TradingView port', `${port}`));

  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') {
    lines.push(
      fail('reachable from TradingView', `the relay listens on ${host} only: nothing outside this machine reaches it`, 'set RELAY_HOST=0.0.0.0 (the default)'),
    );
  } else if (publicAddresses.length === 0) {
    lines.push(
      warn(
        'reachable from TradingView',
        'this machine has no public IPv4 address of its own (behind a router or a cloud NAT)',
        port === 443
          ? 'forward port 443 of your public address to port 443 of this machine (router / cloud firewall), then use https://<your domain>/webhook'
          : `forward port 80 of your public address to port ${port} of this machine (router / cloud firewall), then use http://<public address>/webhook`,
      ),
    );
  } else if (TRADINGVIEW_PORTS.includes(port)) {
    const scheme = port === 443 ? 'https' : 'http';
    lines.push(
      ok(
        'reachable from TradingView',
        `public address ${publicAddresses.join(', ')}: webhook URL ${scheme}://${publicAddresses[0]}/webhook (open port ${port} in the firewall)`,
      ),
    );
  } else {
    // Never a URL with another port: TradingView refuses it (issue 8, case 3).
    lines.push(
      ok(
        'reachable from TradingView',
        `public address ${publicAddresses.join(', ')}: once the relay is on port 80, the webhook URL is http://${publicAddresses[0]}/webhook (open port 80 in the firewall)`,
      ),
    );
  }
  return lines;
}

function tryListen(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

async function answersHealth(port: number, tls: boolean): Promise<boolean> {
  try {
    // A relay with TLS answers https with its own certificate: the answer, not the certificate, is what counts here.
    if (tls) return false;
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { status?: unknown };
    return body.status === 'ok';
  } catch {
    return false;
  }
}
