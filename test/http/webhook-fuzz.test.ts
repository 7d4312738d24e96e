import http from 'node:http';
import { afterAll, beforeAll, it } from 'vitest';
import { entry, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

let rig: TestRig;
beforeAll(async () => { rig = await startTestRig(); });
afterAll(async () => { await rig.close(); });

async function raw(body: Buffer | string, ct?: string) {
  const r = await fetch(`${rig.relay.url}/webhook`, { method: 'POST', headers: ct === undefined ? {} : { 'content-type': ct }, body });
  return [r.status, await r.text()];
}
function noCt(body: Buffer): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${rig.relay.url}/webhook`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve([res.statusCode!, Buffer.concat(chunks).toString()]));
    });
    req.on('error', reject); req.end(body);
  });
}
it('explore', async () => {
  const cases: [string, Buffer | string, string | undefined][] = [
    ['json string entry', JSON.stringify(entry('A')), 'application/json'],
    ['json dup key', `{"relay_user":"alice","relay_user":"bob","relay_id":"B","command":"PLACE","account":"Sim101","instrument":"ES 03-26","action":"BUY","qty":"1","market_position":"long","prev_market_position":"flat"}`, 'application/json'],
    ['proto json', '{"__proto__":{"x":1},"relay_user":"bob"}', 'application/json'],
    ['constructor json', '{"constructor":{"prototype":{"x":1}}}', 'application/json'],
    ['json null', 'null', 'application/json'],
    ['json 5', '5', 'application/json'],
    ['json bad', 'key=SECRETSECRET; relay_user=x', 'application/json'],
    ['json empty', '', 'application/json'],
    ['octet', Buffer.from([0xff, 0xfe, 0x00, 0x41]), 'application/octet-stream'],
    ['multipart', 'a=1', 'multipart/form-data'],
    ['multipart b', 'a=1', 'multipart/form-data; boundary=xyz'],
    ['form', 'a=1&b=2', 'application/x-www-form-urlencoded'],
    ['bad ct', 'a=1', 'not a content type'],
    ['utf16', 'a=1', 'text/plain; charset=utf-16'],
    ['json utf16', '{}', 'application/json; charset=utf-16'],
    ['json {}', '{}', 'application/json'],
    ['invalid utf8 json', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 'application/json'],
    ['big', 'x'.repeat(20000), 'text/plain'],
    ['big json', 'x'.repeat(20000), 'application/json'],
  ];
  for (const [name, body, ct] of cases) console.log(name, ...(await raw(body, ct)));
  console.log('noct', ...(await noCt(Buffer.from('a=1'))));
  console.log('noct empty', ...(await noCt(Buffer.alloc(0))));
  console.log('noct big', ...(await noCt(Buffer.alloc(20000, 0x61))));
  console.log('sim', rig.sim.received.length, JSON.stringify(rig.sim.received));
  console.log('logs', JSON.stringify(rig.relay.store.listLogs({ limit: 100 }).map((l) => [l.decision, l.reason])));
  console.log('proto', ({} as any).x);
});
