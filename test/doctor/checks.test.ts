import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatChecklist } from '../../src/doctor/check-line.js';
import { checkPort } from '../../src/doctor/check-port.js';
import { checkWebhookUrl } from '../../src/doctor/check-webhook-url.js';
import { publicAddresses } from '../../src/doctor/public-addresses.js';

describe('checkWebhookUrl', () => {
  it('accepts CrossTrade’s https URL and shows its origin only', () => {
    expect(checkWebhookUrl('bob', 'https://app.crosstrade.io/v1/send/acct-1/secret-token')).toEqual({
      status: 'ok',
      label: 'user bob: webhook URL',
      detail: 'https://app.crosstrade.io/**** (https, CrossTrade)',
    });
  });

  it('fails plain http off this machine, and a URL without a path', () => {
    expect(checkWebhookUrl('bob', 'http://example.com/v1/send/a/b')).toMatchObject({
      status: 'FAIL',
      detail: "http://example.com/**** is not https: CrossTrade's webhook is https only",
    });
    expect(checkWebhookUrl('bob', 'https://app.crosstrade.io')).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('has no path') });
  });

  it('warns about another host, and lets the simulator on loopback use http', () => {
    expect(checkWebhookUrl('bob', 'https://crosstrade.example.net/v1/send/a/b')).toMatchObject({ status: 'warn' });
    expect(checkWebhookUrl('bob', 'http://127.0.0.1:8090/v1/send/a/b')).toMatchObject({ status: 'warn' });
  });
});

describe('publicAddresses', () => {
  const info = (address: string, family: 'IPv4' | 'IPv6' = 'IPv4', internal = false) => ({ address, family, internal }) as os.NetworkInterfaceInfo;

  it('keeps only addresses the internet reaches directly', () => {
    const interfaces = {
      lo: [info('127.0.0.1', 'IPv4', true)],
      eth0: [info('10.0.0.4'), info('203.0.113.7'), info('fe80::1', 'IPv6')],
      eth1: [info('192.168.1.20'), info('172.20.0.1'), info('100.64.3.3'), info('169.254.1.1'), info('198.51.100.9')],
    };
    expect(publicAddresses(interfaces)).toEqual(['203.0.113.7', '198.51.100.9']);
  });
});

describe('formatChecklist', () => {
  it('prints one line per check and the fix under a line that is not ok', () => {
    expect(
      formatChecklist([
        { status: 'ok', label: 'a', detail: 'fine', fix: 'unused' },
        { status: 'FAIL', label: 'b', detail: 'broken', fix: 'repair it' },
      ]),
    ).toEqual(['[ok]   a: fine', '[FAIL] b: broken', '       fix: repair it']);
  });
});

describe('checkPort', () => {
  const reachable = async (port: number, addresses: string[]) =>
    (await checkPort('0.0.0.0', port, addresses, false)).find((l) => l.label === 'reachable from TradingView');

  it('never prints a webhook URL with a port TradingView refuses (issue 8, case 3)', async () => {
    const line = await reachable(0, ['203.0.113.7']);
    expect(line?.detail).toBe(
      'public address 203.0.113.7: once the relay is on port 80, the webhook URL is http://203.0.113.7/webhook (open port 80 in the firewall)',
    );
    expect(line?.detail).not.toMatch(/203\.0\.113\.7:\d/);
  });

  it('behind NAT on another port, says to forward port 80 to it', async () => {
    const line = await reachable(0, []);
    expect(line).toMatchObject({ status: 'warn', fix: expect.stringContaining('forward port 80 of your public address to port 0 of this machine') });
  });
});
