// The physical limit of one extra hop: a plain Node HTTP server that forwards each POST body to
// the same path on the upstream and answers with the upstream's status and body. No parsing, no
// store, no logging. Its outbound side is the relay's (a keep-alive undici Pool per origin with the
// same options as src/crosstrade/client.ts), so the difference to the relay is the relay's own work.
// argv[2] is the upstream origin. With argv[3] (an SQLite file) it is the *durable* bare forwarder:
// before each forward it inserts one row with synchronous=FULL (an fsync per alert, WAL mode), the
// limit for anything that records before it forwards (issue 9). Prints one `{"ready":{"url":…}}` line.
import http from 'node:http';
import { createRequire } from 'node:module';
import { Pool } from 'undici';
import { serveCommands } from './serve-commands.js';

const upstream = process.argv[2];
const durableFile = process.argv[3];
const pool = new Pool(upstream, { keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connect: { timeout: 1_500 } });

let record = () => undefined;
if (durableFile !== undefined) {
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const db = new Database(durableFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO alerts (time, body) VALUES (?, ?)');
  record = (body) => insert.run(Date.now(), body.toString('utf8'));
}

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    record(body);
    const answer = await pool.request({
      path: req.url,
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body,
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
  void pool.close().then(() => process.exit(0));
});
