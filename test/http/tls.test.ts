import fs from 'node:fs';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../helpers/make-certificates.js';
import { ADMIN_TOKEN, entry, startTestRig, type TestRig } from '../helpers/start-test-relay.js';
import { makeTempDir } from '../helpers/temp-dir.js';

interface Answer {
  status: number;
  body: string;
}

function request(
  url: string,
  options: { method: string; body?: string; ca: string; cert?: string; key?: string; headers?: Record<string, string> },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method,
        ca: fs.readFileSync(options.ca),
        ...(options.cert ? { cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key!) } : {}),
        headers: { 'content-type': 'text/plain', ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('TLS', () => {
  const temp = makeTempDir();
  let certs: TestCertificates;
  let rig: TestRig;
  beforeAll(() => {
    certs = makeCertificates(temp.dir);
  });
  afterEach(async () => {
    await rig.close();
  });
  afterAll(() => temp.cleanup());

  it('serves HTTPS with RELAY_TLS_CERT and RELAY_TLS_KEY', async () => {
    rig = await startTestRig({ tlsCert: certs.serverCert, tlsKey: certs.serverKey });
    expect(rig.relay.url.startsWith('https://')).toBe(true);
    const health = await request(`${rig.relay.url}/health`, { method: 'GET', ca: certs.caCert });
    expect(health.status).toBe(200);
    const alert = await request(`${rig.relay.url}/webhook`, { method: 'POST', body: entry('A'), ca: certs.caCert });
    expect(JSON.parse(alert.body)).toMatchObject({ decision: 'forwarded' });
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.book()).toEqual(['Long 1']);
  });

  describe('with RELAY_TLS_VERIFY_TRADINGVIEW=true', () => {
    const start = () => startTestRig({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsClientCa: certs.caCert, tlsVerifyTradingView: true });

    it('accepts an alert that presents TradingView’s client certificate', async () => {
      rig = await start();
      const answer = await request(`${rig.relay.url}/webhook`, {
        method: 'POST',
        body: entry('A'),
        ca: certs.caCert,
        cert: certs.tradingViewCert,
        key: certs.tradingViewKey,
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ decision: 'forwarded' });
      expect(rig.book()).toEqual(['Long 1']);
    });

    it.each([
      ['another subject', 'otherCert', 'otherKey'],
      ['the right subject, self-signed', 'forgedCert', 'forgedKey'],
      ['no certificate', null, null],
    ] as const)('refuses an alert with %s (403) and forwards nothing', async (_label, cert, key) => {
      rig = await start();
      const answer = await request(`${rig.relay.url}/webhook`, {
        method: 'POST',
        body: entry('A'),
        ca: certs.caCert,
        ...(cert ? { cert: certs[cert], key: certs[key!] } : {}),
      });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({
        decision: 'rejected',
        signal_type: null,
        reason: 'no valid TradingView client certificate (CN "TradingView Webhooks") from 127.0.0.1',
      });
      expect(rig.sim.received).toHaveLength(0);
      expect((await rig.relay.store.listLogs({ limit: 5 })).map((l) => l.decision)).toEqual(['rejected']);
      expect(rig.book()).toEqual([]);
    });

    it('still serves the management API to clients without a certificate', async () => {
      rig = await start();
      const answer = await request(`${rig.relay.url}/users`, { method: 'GET', ca: certs.caCert, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(answer.status).toBe(200);
    });
  });
});
