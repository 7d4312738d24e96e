// The bench's load balancer for relay instances on PostgreSQL (issue 10): an HTTP proxy that sends
// each request to the next instance in turn, as HAProxy (`mode http`, `balance roundrobin`) or
// nginx (`upstream`, its default round robin) do: per request, not per connection, so one client
// connection (the "one at a time" load) is spread over every instance too.
//
// Why not HAProxy or nginx: neither is installed on the machines the bench runs on, and
// `npm run bench` must run on a fresh clone with nothing but Node and (optionally) PostgreSQL. Its
// cost is that of the bench's bare forwarder (the same design: Node's HTTP server in, a keep-alive
// undici Pool per instance out, the body buffered), a Node process on the same 2 cores, which is
// more than HAProxy's; the bench reports its CPU apart from the relays' and the difference between
// one instance behind it and one instance straight.
//
// argv[2] is a JSON list of backend sets (each a list of origins): one listener per set, each with
// its own turn. No health checks: the bench's instances stay up (a real one would check GET /health).
// Prints one `{"ready":{"urls":[…]}}` line, then speaks serve-commands.js.
import http from 'node:http';
import { Pool } from 'undici';
import { serveCommands } from './serve-commands.js';

const sets = JSON.parse(process.argv[2] ?? '[]');
const pools = new Map();
const poolFor = (origin) => {
  if (!pools.has(origin)) pools.set(origin, new Pool(origin, { keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connect: { timeout: 1_500 } }));
  return pools.get(origin);
};

/** A listener that sends each request to the next of `origins` and answers with its reply. */
function balance(origins) {
  const backends = origins.map(poolFor);
  let next = 0;
  const server = http.createServer(async (req, res) => {
    const backend = backends[next];
    next = (next + 1) % backends.length;
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const answer = await backend.request({
        path: req.url,
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' },
        body: chunks.length === 0 ? null : Buffer.concat(chunks),
        // Past TradingView's 3 s nobody is waiting any more.
        headersTimeout: 3_000,
        bodyTimeout: 3_000,
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
      res.end(body);
    } catch {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":"no instance answered"}');
    }
  });
  // Same keep-alive window as Fastify's default, so the load generator's sockets stay open alike.
  server.keepAliveTimeout = 72_000;
  return server;
}

const servers = sets.map(balance);
const urls = await Promise.all(
  servers.map(
    (server) =>
      new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
      }),
  ),
);
process.stdout.write(`${JSON.stringify({ ready: { urls } })}\n`);
serveCommands({});
process.on('SIGTERM', () => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  void Promise.all([...pools.values()].map((pool) => pool.close())).then(() => process.exit(0));
});
