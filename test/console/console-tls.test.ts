import fs from 'node:fs';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../helpers/make-certificates.js';
import { ADMIN_TOKEN, startTestRig, type TestRig } from '../helpers/start-test-relay.js';
import { makeTempDir } from '../helpers/temp-dir.js';

function postLoginOverTls(url: string, ca: string): Promise<{ status: number; cookie: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${url}/console/login`,
      { method: 'POST', ca: fs.readFileSync(ca), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, cookie: String(response.headers['set-cookie'] ?? '') }));
      },
    );
    request.on('error', reject);
    request.end(new URLSearchParams({ token: ADMIN_TOKEN }).toString());
  });
}

describe('console under TLS', () => {
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

  it('marks the session cookie Secure', async () => {
    rig = await startTestRig({ tlsCert: certs.serverCert, tlsKey: certs.serverKey });
    const login = await postLoginOverTls(rig.relay.url, certs.caCert);
    expect(login.status).toBe(303);
    expect(login.cookie).toMatch(/^relay_console=[^;]+; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  });

  it('marks it Secure behind a trusted TLS proxy (X-Forwarded-Proto), and not when the proxy is not trusted', async () => {
    for (const [trustProxy, secure] of [
      ['127.0.0.1', true],
      ['', false],
    ] as const) {
      rig = await startTestRig({ trustProxy });
      const login = await fetch(`${rig.relay.url}/console/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
        body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      });
      expect(login.status).toBe(303);
      expect((login.headers.get('set-cookie') ?? '').includes('; Secure;')).toBe(secure);
      if (trustProxy !== '') await rig.close();
    }
  });
});
