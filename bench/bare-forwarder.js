// The physical limit of one extra hop: a plain Node HTTP server that forwards each POST body to
// the same path on the upstream and answers with the upstream's status and body. No parsing, no
// store, no logging. Its outbound side is the relay's (one keep-alive undici Agent, same options
// as src/crosstrade/client.ts), so the difference to the relay is the relay's own work.
// argv[2] is the upstream origin. Prints one `{"ready":{"url":…}}` line.
import http from 'node:http';
import { Agent, request } from 'undici';
import { serveCommands } from './serve-commands.js';

const upstream = process.argv[2];
const agent = new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connect: { timeout: 1_500 } });

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const answer = await request(`${upstream}${req.url}`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.concat(chunks),
      headersTimeout: 1_500,
      bodyTimeout: 1_500,
    });
    const text = await answer.body.text();
    res.writeHead(answer.statusCode, { 'content-type': 'application/json' });
    res.end(text);
  } catch {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":"upstream failed"}');
  }
});
// Same keep-alive window as Fastify's default, so the load generator's sockets stay open alike.
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: { url: `http://127.0.0.1:${server.address().port}` } })}\n`);
});
serveCommands({});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void agent.close().then(() => process.exit(0));
});
