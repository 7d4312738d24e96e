import { afterEach, describe, expect, it } from 'vitest';
import { entry, exit, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

const postFrom = async (rig: TestRig, body: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${rig.relay.url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body });
  return { status: response.status, body: (await response.json()) as { decision: string; signal_type: string | null; reason: string } };
};

describe('webhook protection', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });
  const logged = async () => (await rig.relay.store.listLogs({ limit: 50 })).map((l) => [l.decision, l.reason]);

  describe('allow-list (RELAY_WEBHOOK_ALLOW)', () => {
    it('refuses a source outside the list with 403, forwards nothing and logs it', async () => {
      rig = await startTestRig({ webhookAllow: '10.0.0.0/8, 52.89.214.238' });
      const answer = await postFrom(rig, entry('A'));
      expect(answer).toEqual({
        status: 403,
        body: { decision: 'rejected', signal_type: null, reason: 'source address 127.0.0.1 is not allowed to send alerts (RELAY_WEBHOOK_ALLOW)' },
      });
      expect(rig.sim.received).toHaveLength(0);
      expect(await logged()).toEqual([['rejected', 'source address 127.0.0.1 is not allowed to send alerts (RELAY_WEBHOOK_ALLOW)']]);
      expect(rig.book()).toEqual([]);
    });

    it('cannot be walked around with a percent-encoded path', async () => {
      rig = await startTestRig({ webhookAllow: '10.0.0.0/8' });
      for (const path of ['/%77ebhook', '/webhoo%6B']) {
        const response = await fetch(`${rig.relay.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"relay_user":"bob"}',
        });
        expect(response.status).toBe(403);
      }
      expect(rig.sim.received).toHaveLength(0);
      expect(rig.book()).toEqual([]);
    });

    it('lets loopback through by default, and anything with *', async () => {
      rig = await startTestRig({ webhookAllow: '*' });
      expect((await postFrom(rig, entry('A'))).status).toBe(200);
      expect(rig.book()).toEqual(['Long 1']);
    });

    it('ignores X-Forwarded-For from a source that is not a trusted proxy', async () => {
      rig = await startTestRig({ webhookAllow: '52.89.214.238' });
      const answer = await postFrom(rig, entry('A'), { 'x-forwarded-for': '52.89.214.238' });
      expect(answer.status).toBe(403);
      expect(rig.sim.received).toHaveLength(0);
      expect(rig.book()).toEqual([]);
    });

    it('believes X-Forwarded-For from a trusted proxy (RELAY_TRUST_PROXY), both ways', async () => {
      rig = await startTestRig({ webhookAllow: '52.89.214.238', trustProxy: '127.0.0.1' });
      expect((await postFrom(rig, entry('A'), { 'x-forwarded-for': '52.89.214.238' })).status).toBe(200);
      const spoofed = await postFrom(rig, entry('B'), { 'x-forwarded-for': '198.51.100.9' });
      expect(spoofed.status).toBe(403);
      expect(spoofed.body.reason).toBe('source address 198.51.100.9 is not allowed to send alerts (RELAY_WEBHOOK_ALLOW)');
      expect(rig.sim.received).toHaveLength(1);
      expect(rig.book()).toEqual(['Long 1']);
    });
  });

  describe('rate limit (RELAY_RATE_LIMIT_PER_MIN)', () => {
    it('answers 429 past the limit per source and logs it', async () => {
      rig = await startTestRig({ rateLimitPerMin: 3 });
      rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 5);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await postFrom(rig, closeOne(`R${i}`))).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect((await logged()).filter(([d]) => d === 'rejected')).toEqual([
        ['rejected', 'rate limit: more than 3 alerts a minute from 127.0.0.1'],
        ['rejected', 'rate limit: more than 3 alerts a minute from 127.0.0.1'],
      ]);
      expect(rig.sim.received).toHaveLength(3);
      expect(rig.book()).toEqual(['Long 2']);
    });
  });

  describe('relay_secret', () => {
    const withSecret = async () => {
      rig = await startTestRig();
      const answer = await rig.admin('POST', '/users', {
        relay_user: 'bob',
        crosstrade_key: USER_KEY,
        webhook_url: rig.sim.webhookUrl(USER_KEY),
        relay_secret: 'bobs-passphrase-1',
      });
      expect(answer.status).toBe(200);
    };

    it('refuses an alert without it (401) or with a wrong one (403)', async () => {
      await withSecret();
      expect(await postFrom(rig, entry('A'))).toEqual({
        status: 401,
        body: { decision: 'rejected', signal_type: null, reason: 'missing relay_secret: this relay_user requires one' },
      });
      expect(await postFrom(rig, `${entry('A')} relay_secret=bobs-passphrase-2;`)).toEqual({
        status: 403,
        body: { decision: 'rejected', signal_type: null, reason: 'wrong relay_secret' },
      });
      expect(rig.sim.received).toHaveLength(0);
      expect(rig.book()).toEqual([]);
    });

    it('forwards an alert with the right one, stripped, and never shows it', async () => {
      await withSecret();
      const answer = await postFrom(rig, `${entry('A')} relay_secret=bobs-passphrase-1;`);
      expect(answer.body.decision).toBe('forwarded');
      expect(rig.sim.received[0]?.body).not.toContain('relay_secret');
      expect(rig.book()).toEqual(['Long 1']);
      const users = await rig.admin('GET', '/users');
      expect(users.body.users[0].relay_secret).toBe('****');
      const logs = await rig.admin('GET', '/logs');
      const stored = JSON.stringify([await rig.relay.store.listUsers(), await rig.relay.store.listLogs({ limit: 10 })]);
      await rig.relay.close();
      for (const text of [users.text, logs.text, rig.logFileText(), stored]) {
        expect(text).not.toContain('bobs-passphrase-1');
      }
    });
  });

  describe('repeats (RELAY_DEDUP_SECONDS, default 30 s) and relay_alert_id', () => {
    const duplicate = 'duplicate: the same alert from this strategy arrived within 30 s with nothing of it in between';

    it('drops the same alert body from the same strategy inside the window', async () => {
      rig = await startTestRig();
      expect((await postFrom(rig, entry('A'))).body.decision).toBe('forwarded');
      rig.advance(4_000); // TradingView's resend comes ~5 s later; a repeating sender sooner or later
      expect((await postFrom(rig, entry('A'))).body).toEqual({ decision: 'dropped', signal_type: 'entry', reason: duplicate });
      rig.advance(25_000);
      expect((await postFrom(rig, entry('A'))).body).toEqual({ decision: 'dropped', signal_type: 'entry', reason: duplicate });
      expect(rig.sim.received).toHaveLength(1);
      expect(rig.book()).toEqual(['Long 1']);
    });

    it('drops all but one of 20 simultaneous copies', async () => {
      rig = await startTestRig();
      const answers = await Promise.all(Array.from({ length: 20 }, () => postFrom(rig, entry('A'))));
      expect(answers.filter((a) => a.body.decision === 'forwarded')).toHaveLength(1);
      expect(answers.filter((a) => a.body.decision === 'dropped')).toHaveLength(19);
      expect(rig.sim.received).toHaveLength(1);
      expect(rig.book()).toEqual(['Long 1']);
    });

    it('lets a legitimate repeat through: the same body after another alert of the strategy on the key (entry, exit, entry)', async () => {
      rig = await startTestRig();
      expect((await postFrom(rig, entry('A'))).body.decision).toBe('forwarded');
      expect((await postFrom(rig, exit('A'))).body.decision).toBe('forwarded');
      expect((await postFrom(rig, entry('A'))).body.decision).toBe('forwarded');
      expect(rig.sim.received).toHaveLength(3);
      expect(rig.book()).toEqual(['Long 1']);
    });

    it('lets the same alert through once the window passed', async () => {
      rig = await startTestRig();
      rig.sim.setPosition('Sim101', 'ES 03-26', 'Long', 3);
      expect((await postFrom(rig, closeOne('ops'))).body.decision).toBe('forwarded');
      expect((await postFrom(rig, closeOne('ops'))).body).toMatchObject({ decision: 'dropped', reason: duplicate });
      rig.advance(30_001);
      expect((await postFrom(rig, closeOne('ops'))).body.decision).toBe('forwarded');
      expect(rig.sim.received).toHaveLength(2);
      expect(rig.book()).toEqual(['Long 1']);
    });

    it('treats one relay_alert_id as one trigger whatever came between, and strips it before forwarding', async () => {
      rig = await startTestRig();
      const first = entry('A', { extra: 'relay_alert_id=2026-01-05T14:30:00Z' });
      expect((await postFrom(rig, first)).body.decision).toBe('forwarded');
      expect((await postFrom(rig, exit('A'))).body.decision).toBe('forwarded');
      expect((await postFrom(rig, first)).body).toEqual({
        decision: 'dropped',
        signal_type: 'entry',
        reason: 'duplicate: this relay_alert_id was already handled',
      });
      // a new trigger of the same alert carries a new value
      expect((await postFrom(rig, entry('A', { extra: 'relay_alert_id=2026-01-05T14:35:00Z' }))).body.decision).toBe('forwarded');
      expect(rig.sim.received).toHaveLength(3);
      for (const received of rig.sim.received) expect(received.body).not.toContain('relay_alert_id');
      expect(rig.book()).toEqual(['Long 1']);
    });
  });
});

/** Closes one contract whoever holds the position: a `flatten` signal, forwarded without arbitration. */
function closeOne(relayId: string): string {
  return `relay_user=bob; relay_id=${relayId}; command=CLOSEPOSITION; account=Sim101; instrument=ES 03-26; qty=1;`;
}
