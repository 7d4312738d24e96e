import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { isPublicIPv4, tradingViewUrlAdvice } from '../../src/config/tradingview-url.js';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

const nic = (address: string, internal = false) => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4' as const,
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/24`,
});
const VPS: Interfaces = { lo: [nic('127.0.0.1', true)], eth0: [nic('52.10.20.30')] };
const NATTED: Interfaces = { lo: [nic('127.0.0.1', true)], eth0: [nic('10.0.0.4')] };
const SETTINGS = '/opt/trade-relay/data/settings.env';

describe('tradingViewUrlAdvice (issue 8, case 3)', () => {
  it('prints the URL TradingView accepts: port 80 with this host’s public address, no port in it', () => {
    expect(tradingViewUrlAdvice({ tls: false, host: '0.0.0.0', port: 80, interfaces: VPS, settingsFile: SETTINGS })).toEqual([
      { level: 'info', message: 'TradingView webhook URL: http://52.10.20.30/webhook' },
    ]);
  });

  it('never prints a URL on a port TradingView refuses: says exactly what to change', () => {
    const [advice] = tradingViewUrlAdvice({ tls: false, host: '0.0.0.0', port: 8080, interfaces: VPS, settingsFile: SETTINGS });
    expect(advice).toEqual({
      level: 'warn',
      message:
        'no TradingView URL on port 8080: TradingView only delivers webhooks to ports 80 and 443. Start with --port 80 ' +
        `(or put RELAY_PORT=80 in ${SETTINGS}), then use http://52.10.20.30/webhook; or put HTTPS on 443 in front of ` +
        'port 8080 (a reverse proxy) and use https://<your domain>/webhook. See README, "TradingView and ports"',
    });
    expect(advice?.message).not.toContain('YOUR_VPS_IP');
  });

  it('says what to put for the host when the machine has no public address (NAT)', () => {
    expect(tradingViewUrlAdvice({ tls: false, host: '0.0.0.0', port: 80, interfaces: NATTED, settingsFile: SETTINGS })).toEqual([
      {
        level: 'warn',
        message:
          'TradingView webhook URL: http://<public IPv4 of this server>/webhook. This machine has no public IPv4 address on its network ' +
          'interfaces (it has 10.0.0.4): put the address you reach the server at from the internet (your VPS provider shows it), ' +
          'and make sure port 80 is forwarded to this machine and open in its firewall',
      },
    ]);
  });

  it('with TLS on 443 names the certificate’s domain', () => {
    expect(tradingViewUrlAdvice({ tls: true, host: '0.0.0.0', port: 443, interfaces: VPS, settingsFile: SETTINGS })).toEqual([
      { level: 'info', message: 'TradingView webhook URL: https://<your domain>/webhook (the domain your certificate RELAY_TLS_CERT is for)' },
    ]);
  });

  it('on loopback points at the reverse proxy in front', () => {
    const [advice] = tradingViewUrlAdvice({ tls: false, host: '127.0.0.1', port: 8080, interfaces: VPS, settingsFile: SETTINGS });
    expect(advice?.level).toBe('info');
    expect(advice?.message).toContain(
      "listening on 127.0.0.1 only: TradingView cannot reach this address. Behind a reverse proxy on 80/443, the TradingView webhook URL is the proxy's",
    );
  });

  it('tells public addresses from private ones', () => {
    expect(['52.10.20.30', '8.8.8.8'].map(isPublicIPv4)).toEqual([true, true]);
    expect(['10.1.2.3', '172.16.0.1', '172.31.9.9', '192.168.1.5', '127.0.0.1', '169.254.1.1', '100.64.0.1', '0.0.0.0', '::1'].map(isPublicIPv4)).toEqual(
      Array(9).fill(false),
    );
  });
});
