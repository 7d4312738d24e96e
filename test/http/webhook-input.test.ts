import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entry, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

describe('webhook: alert syntax and bad input', () => {
  let rig: TestRig;
  beforeEach(async () => {
    rig = await startTestRig();
  });
  afterEach(async () => {
    await rig.close();
  });
  const rejectedRows = async () => (await rig.relay.store.listLogs({ limit: 100 })).filter((l) => l.decision === 'rejected');

  it('reads fields split by line breaks (LF and CRLF), with spaces and any name case', async () => {
    const body =
      ' RELAY_USER = bob \r\nRelay_Id=A\r\ncommand=PLACE;\naccount=Sim101\ninstrument=ES 03-26;action=BUY;qty=1;order_type=MARKET;tif=DAY\nMarket_Position = LONG\nprev_market_position=Flat\n';
    const answer = await rig.post(body);
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: nobody owns the position' });
    expect(rig.sim.received[0]?.body).toBe(
      `key=${USER_KEY};\ncommand=PLACE;\naccount=Sim101;\ninstrument=ES 03-26;action=BUY;qty=1;order_type=MARKET;tif=DAY;\nMarket_Position = LONG;\nprev_market_position=Flat;`,
    );
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('accepts the same fields as a JSON object', async () => {
    const answer = await rig.post(
      JSON.stringify({
        relay_user: 'bob',
        relay_id: 'A',
        command: 'PLACE',
        account: 'Sim101',
        instrument: 'ES 03-26',
        action: 'BUY',
        qty: 1,
        market_position: 'long',
        prev_market_position: 'flat',
      }),
      'application/json',
    );
    expect(answer.body.decision).toBe('forwarded');
    expect(rig.sim.received[0]?.body).toBe(
      `key=${USER_KEY}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; market_position=long; prev_market_position=flat;`,
    );
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('reads a JSON object sent as text/plain (with a trailing newline) as JSON, whatever the content type', async () => {
    const json = `${JSON.stringify({
      relay_user: 'bob',
      relay_id: 'A',
      command: 'PLACE',
      account: 'Sim101',
      instrument: 'ES 03-26',
      action: 'BUY',
      qty: 1,
      market_position: 'long',
      prev_market_position: 'flat',
    })}\n`;
    const answer = await rig.post(json, 'text/plain; charset=utf-8');
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: nobody owns the position' });
    expect(rig.sim.received[0]?.body).toBe(
      `key=${USER_KEY}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; market_position=long; prev_market_position=flat;`,
    );
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('reads a key=value alert sent as application/json as text', async () => {
    const answer = await rig.post(entry('A'), 'application/json');
    expect(answer.body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: nobody owns the position' });
    expect(rig.sim.received.map((r) => r.body)).toEqual([
      `key=${USER_KEY}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY; prev_market_position=flat; market_position=long;`,
    ]);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('removes a key the alert carried and puts the user’s key first', async () => {
    await rig.post(`key=someone-elses-key; ${entry('A')}`);
    expect(rig.sim.received[0]?.body.startsWith(`key=${USER_KEY}; command=PLACE;`)).toBe(true);
    expect(rig.sim.received[0]?.body).not.toContain('someone-elses-key');
    expect(JSON.stringify(await rig.relay.store.listLogs({ limit: 10 }))).not.toContain('someone-elses-key');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it.each([
    [
      'relay_user=bob; relay_id=A; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; market_position=long relay_secret=hunter2hunter2;',
      'market_position',
      'relay_secret',
    ],
    ['relay_user=bob; relay_id=A; account=Sim101; instrument=ES 03-26; comment=go relay_secret=hunter2hunter2;', 'comment', 'relay_secret'],
    ['relay_user=bob; relay_id=A; account=Sim101; instrument=ES 03-26; tif=DAY key=hunter2hunter2; qty=1;', 'tif', 'key'],
  ])('refuses %j (a secret that lost its ";") without showing, storing or logging it', async (body, holder, secret) => {
    const answer = await rig.post(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      decision: 'rejected',
      signal_type: null,
      reason: `field ${holder} has ${secret}= in its value: a ';' is missing before ${secret}`,
    });
    const stored = JSON.stringify(await rig.relay.store.listLogs({ limit: 10 }));
    const logs = await rig.admin('GET', '/logs?limit=10');
    await rig.relay.close();
    for (const text of [JSON.stringify(answer.body), stored, logs.text, rig.logFileText()]) expect(text).not.toContain('hunter2');
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual([]);
  });

  it.each([
    ['relay_id=A; command=PLACE;', 400, 'missing relay_user'],
    ['relay_user=bob; command=PLACE;', 400, 'missing relay_id'],
    ['relay_user=nobody; relay_id=A; command=PLACE;', 404, 'unknown relay_user "nobody"'],
    [
      'relay_user=bob; relay_id=A; account=Sim101; instrument=ES; market_position=sideways; prev_market_position=flat;',
      400,
      'market_position must be long, short or flat (got "sideways")',
    ],
    [
      'relay_user=bob; relay_id=A; account=Sim101; instrument=ES; market_position=long;',
      400,
      'market_position and prev_market_position go together: prev_market_position is missing',
    ],
    [
      'relay_user=bob; relay_id=A; market_position=long; prev_market_position=flat; instrument=ES;',
      400,
      'missing account: the relay arbitrates per account and instrument',
    ],
    ['relay_user=bob; relay_id=A; just some text', 400, "field 3 has no '='"],
    ['', 400, 'alert is empty'],
  ])('rejects %j with %i and a one-line reason, forwards nothing, logs it', async (body, status, reason) => {
    const answer = await rig.post(body);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ decision: 'rejected', signal_type: null, reason });
    expect(rig.sim.received).toHaveLength(0);
    expect((await rejectedRows()).map((r) => r.reason)).toEqual([reason]);
    expect(rig.book()).toEqual([]);
  });

  it('rejects a body over the size limit with 413, and logs it', async () => {
    const answer = await rig.post(`${entry('A')} comment=${'x'.repeat(20_000)};`);
    expect(answer.status).toBe(413);
    expect(answer.body.decision).toBe('rejected');
    expect(rig.sim.received).toHaveLength(0);
    expect(await rejectedRows()).toHaveLength(1);
    expect(rig.book()).toEqual([]);
  });

  it('rejects JSON that is not an object, and malformed JSON', async () => {
    expect((await rig.post('[1,2]', 'application/json')).body).toEqual({
      decision: 'rejected',
      signal_type: null,
      reason: 'alert JSON must be an object of fields',
    });
    const malformed = await rig.post('{"relay_user": ', 'application/json');
    expect(malformed.status).toBe(400);
    expect(malformed.body.decision).toBe('rejected');
    expect(rig.sim.received).toHaveLength(0);
    expect(await rejectedRows()).toHaveLength(2);
    expect(rig.book()).toEqual([]);
  });

  it('never stores a key from an alert it could not read', async () => {
    await rig.post(`key=${'S'.repeat(20)}; relay_user=bob; relay_id=A; garbage`);
    expect(JSON.stringify(await rig.relay.store.listLogs({ limit: 10 }))).not.toContain('S'.repeat(20));
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual([]);
  });
});
