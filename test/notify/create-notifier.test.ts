import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotifier, type Notifier, type NotifierOptions } from '../../src/notify/create-notifier.js';
import type { AlertNotice } from '../../src/notify/notification.js';
import { NOTIFY_EVENTS } from '../../src/notify/notify-events.js';
import { createWebhookChannel } from '../../src/notify/webhook-channel.js';
import { startNotifyStandIn, type NotifyStandIn } from '../helpers/start-notify-stand-in.js';
import { notifyLog } from './notify-log.js';

const notice = (over: Partial<AlertNotice> = {}): AlertNotice => ({
  time: Date.UTC(2026, 10, 30, 14, 30, 0),
  relayUser: 'bob',
  relayId: 'B',
  account: 'Sim101',
  instrument: 'ES 03-26',
  signalType: 'entry',
  decision: 'blocked',
  reason: 'position-open: owned by A, CrossTrade reports Long 1',
  ...over,
});
type Payload = { event: string; relay_id: string; account: string; reason: string; count: number; dropped: number };

describe('the notifier', () => {
  let standIn: NotifyStandIn;
  let notifier: Notifier | null = null;
  let log: ReturnType<typeof notifyLog>;
  const payloads = () => standIn.received.map((r) => r.json as Payload);
  const start = (options: Partial<NotifierOptions> = {}) => {
    notifier = createNotifier({
      channels: [createWebhookChannel({ url: `${standIn.url}/hook`, timeoutMs: 2000 })],
      events: NOTIFY_EVENTS.filter((e) => e !== 'forwarded'),
      logger: log.logger,
      groupWindowMs: 0,
      retry: { attempts: 3, baseMs: 20, maxMs: 1000 },
      ...options,
    });
    return notifier;
  };
  beforeEach(async () => {
    standIn = await startNotifyStandIn('webhook');
    log = notifyLog();
  });
  afterEach(async () => {
    await notifier?.close();
    notifier = null;
    await standIn.close();
  });

  it('tells only the events RELAY_NOTIFY_EVENTS lists', async () => {
    const n = start({ events: ['dropped', 'relay_stopped'] });
    n.alertDecided(notice({ decision: 'blocked' }));
    n.alertDecided(notice({ decision: 'forwarded', reason: 'entry: B takes the key' }));
    n.relayEvent('relay_started', 'listening on port 1');
    n.alertDecided(notice({ decision: 'dropped', reason: 'phantom-exit: owned by A' }));
    n.relayEvent('relay_stopped', 'the relay was stopped');
    await n.close();
    expect(payloads().map((p) => p.event)).toEqual(['dropped', 'relay_stopped']);
  });

  it('groups a burst of one event on one key into one message with its count', async () => {
    const n = start({ groupWindowMs: 60_000 });
    for (let i = 0; i < 50; i += 1) n.alertDecided(notice({ relayId: `B${i}` }));
    // Another key and another event are told on their own.
    n.alertDecided(notice({ account: 'Sim102' }));
    n.alertDecided(notice({ decision: 'dropped', reason: 'phantom-exit: owned by A' }));
    await standIn.waitFor(3);
    expect(payloads().map((p) => [p.event, p.account, p.relay_id, p.count])).toEqual([
      ['blocked', 'Sim101', 'B0', 1],
      ['blocked', 'Sim102', 'B', 1],
      ['dropped', 'Sim101', 'B', 1],
    ]);
    // The window's repeats are told once it ends, or at shutdown: 49, with the last one's facts.
    await n.close();
    expect(payloads().map((p) => [p.event, p.account, p.relay_id, p.count])).toEqual([
      ['blocked', 'Sim101', 'B0', 1],
      ['blocked', 'Sim102', 'B', 1],
      ['dropped', 'Sim101', 'B', 1],
      ['blocked', 'Sim101', 'B49', 49],
    ]);
  });

  it("does not hold an owner's failed exit behind another strategy's blocked entry of the same event and key", async () => {
    const n = start({ groupWindowMs: 60_000 });
    const unreachable = 'CrossTrade check failed (api-not-connected-408)';
    n.alertDecided(notice({ relayId: 'B', decision: 'blocked', reason: `position-check-failed: owned by A, ${unreachable}` }));
    n.alertDecided(notice({ relayId: 'A', signalType: 'exit', decision: 'failed', reason: 'forward-failed: upstream-http-408; nothing was placed' }));
    await standIn.waitFor(2);
    expect(payloads().map((p) => [p.event, p.relay_id, p.count])).toEqual([
      ['crosstrade_unreachable', 'B', 1],
      ['crosstrade_unreachable', 'A', 1],
    ]);
  });

  it('tells the repeats of a window when it ends, and opens a new one while they keep coming', async () => {
    const n = start({ groupWindowMs: 100 });
    for (let i = 0; i < 5; i += 1) n.alertDecided(notice({ relayId: `B${i}` }));
    await standIn.waitFor(2);
    expect(payloads().map((p) => [p.relay_id, p.count])).toEqual([
      ['B0', 1],
      ['B4', 4],
    ]);
    n.alertDecided(notice({ relayId: 'B5' }));
    await standIn.waitFor(3);
    expect(payloads()[2]).toMatchObject({ relay_id: 'B5', count: 1 });
  });

  it('drops the oldest waiting message when the queue is full, and says how many in the next message', async () => {
    const n = start({ queueCapacity: 3 });
    standIn.hold();
    n.alertDecided(notice({ relayId: 'M1' }));
    await standIn.waitFor(1);
    // M1 is on its way (held); M2..M6 wait in a queue of 3: M2 and M3 are dropped.
    for (const id of ['M2', 'M3', 'M4', 'M5', 'M6']) n.alertDecided(notice({ account: id, relayId: id }));
    standIn.release();
    await standIn.waitFor(4);
    expect(payloads().map((p) => [p.relay_id, p.dropped])).toEqual([
      ['M1', 0],
      ['M4', 2],
      ['M5', 0],
      ['M6', 0],
    ]);
  });

  it('groups refused alerts as one key, so a flood of them with new names each cannot push a position to check out of the queue', async () => {
    const n = start({ groupWindowMs: 60_000, queueCapacity: 3 });
    standIn.hold();
    // Anyone who can reach /webhook may send these, each naming another user and account.
    for (let i = 0; i < 200; i += 1) {
      n.alertDecided(notice({ relayUser: `u${i}`, relayId: null, account: `acct${i}`, decision: 'rejected', reason: 'unknown relay_user' }));
    }
    n.alertDecided(notice({ decision: 'unknown', reason: 'outcome-unknown: check the position in NinjaTrader' }));
    await standIn.waitFor(1);
    standIn.release();
    await standIn.waitFor(2);
    await n.close();
    expect(payloads().map((p) => [p.event, p.count, p.dropped])).toEqual([
      ['rejected', 1, 0],
      ['reconcile_needed', 1, 0],
      ['rejected', 199, 0],
    ]);
  });

  it('says in the human text how many messages were dropped', async () => {
    const { formatMessage } = await import('../../src/notify/format-message.js');
    const text = formatMessage({ notification: { ...notice(), event: 'blocked' }, count: 3, dropped: 2 }).text;
    expect(text).toBe(
      [
        'Trade Relay: alert blocked (3 times): bob/B on Sim101 ES 03-26',
        'decision: blocked (entry)',
        'reason: position-open: owned by A, CrossTrade reports Long 1',
        '3 times since the last message; the last at 2026-11-30T14:30:00.000Z',
        '(2 earlier notifications were dropped: the queue was full or the channel kept failing)',
      ].join('\n'),
    );
  });

  it('explains CrossTrade’s codes in the human text', async () => {
    const { formatMessage } = await import('../../src/notify/format-message.js');
    const reason = 'position-check-failed: owned by A, CrossTrade check failed (api-not-connected-408)';
    const text = formatMessage({ notification: { ...notice({ reason }), event: 'crosstrade_unreachable' }, count: 1, dropped: 0 }).text;
    expect(text.split('\n').slice(0, 4)).toEqual([
      'Trade Relay: CrossTrade unreachable: bob/B on Sim101 ES 03-26',
      'decision: blocked (entry)',
      `reason: ${reason}`,
      'meaning: NinjaTrader is not connected to CrossTrade (start NinjaTrader and the CrossTrade add-on)',
    ]);
  });

  it('retries after a 500 from the channel, waiting longer each time', async () => {
    standIn.failNext(500, 2);
    const n = start();
    n.alertDecided(notice());
    await standIn.waitFor(3);
    // The same message three times: two 500s, then taken.
    expect(new Set(standIn.received.map((r) => r.body)).size).toBe(1);
    const retries = log.lines.filter((line) => line.msg === 'notification failed, retrying: webhook: HTTP 500');
    expect(retries.map((line) => [line.attempt, line.retry_in_ms])).toEqual([
      [1, 20],
      [2, 40],
    ]);
    await n.close();
    expect(log.lines.some((line) => String(line.msg).startsWith('notification not sent'))).toBe(false);
  });

  it('gives a message up after the last try and counts it in the next one', async () => {
    standIn.failNext(503, 3);
    const n = start();
    n.alertDecided(notice({ relayId: 'lost' }));
    await standIn.waitFor(3);
    n.alertDecided(notice({ account: 'Sim102', relayId: 'next' }));
    await standIn.waitFor(4);
    expect(payloads()[3]).toMatchObject({ relay_id: 'next', dropped: 1 });
    expect(log.lines.find((line) => line.msg === 'notification not sent: webhook: HTTP 503')).toMatchObject({ attempts: 3, channel: 'webhook' });
  });

  it('does not hold shutdown past its bound while the channel hangs', async () => {
    standIn.hold();
    const n = start({ closeTimeoutMs: 200 });
    n.alertDecided(notice());
    n.alertDecided(notice({ account: 'Sim102' }));
    await standIn.waitFor(1);
    await n.close();
    // Closed while the channel still had not answered: the one on its way and the one waiting are given up.
    expect(standIn.pending).toBe(1);
    expect(log.lines.find((line) => line.msg === 'notifications not sent: the relay stopped before the channel took them')).toMatchObject({
      channel: 'webhook',
      unsent: 2,
    });
    // Nothing is queued after close.
    n.alertDecided(notice({ account: 'Sim103' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(standIn.received).toHaveLength(1);
  });

  it('masks the channels’ secrets in a message, whatever carried them there', async () => {
    const n = start({ secrets: ['super-secret-webhook-token'] });
    n.alertDecided(notice({ relayId: 'x', reason: 'field comment has super-secret-webhook-token in it' }));
    await n.close();
    expect(payloads()[0]?.reason).toBe('field comment has *** in it');
  });

  it('is a no-op without channels', async () => {
    const n = createNotifier({ channels: [], events: [...NOTIFY_EVENTS], logger: log.logger });
    n.alertDecided(notice());
    n.relayEvent('relay_started', 'x');
    await n.close();
    expect(log.lines).toEqual([]);
  });
});
