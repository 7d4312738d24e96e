import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Signed by the CA with CN "TradingView Webhooks" (TradingView's subject, docs/external-systems.md §1.2). */
  tradingViewCert: string;
  tradingViewKey: string;
  /** Signed by the same CA with another subject. */
  otherCert: string;
  otherKey: string;
  /** Self-signed with TradingView's subject: the right name without a trusted signature. */
  forgedCert: string;
  forgedKey: string;
}

/** Makes a throw-away CA, a server certificate for 127.0.0.1 and client certificates with openssl. */
export function makeCertificates(dir: string): TestCertificates {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const key = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(name));

  key('ca.key');
  openssl('req', '-x509', '-new', '-key', file('ca.key'), '-subj', '/CN=Trade Relay Test CA', '-days', '2', '-out', file('ca.crt'));
  const signed = (name: string, subject: string, extensions: string) => {
    key(`${name}.key`);
    openssl('req', '-new', '-key', file(`${name}.key`), '-subj', subject, '-out', file(`${name}.csr`));
    fs.writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
  };
  signed('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  signed('tradingview', '/C=US/ST=Ohio/L=Westerville/O=TradingView, Inc./CN=TradingView Webhooks', 'extendedKeyUsage=clientAuth\n');
  signed('other', '/O=Somebody Else/CN=Not TradingView', 'extendedKeyUsage=clientAuth\n');
  key('forged.key');
  openssl(
    'req',
    '-x509',
    '-new',
    '-key',
    file('forged.key'),
    '-subj',
    '/O=TradingView, Inc./CN=TradingView Webhooks',
    '-days',
    '2',
    '-out',
    file('forged.crt'),
  );

  return {
    caCert: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    tradingViewCert: file('tradingview.crt'),
    tradingViewKey: file('tradingview.key'),
    otherCert: file('other.crt'),
    otherKey: file('other.key'),
    forgedCert: file('forged.crt'),
    forgedKey: file('forged.key'),
  };
}
