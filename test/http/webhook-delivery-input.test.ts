import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { command } from '../helpers/alerts.js';
import { entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Issue 7, "Input and settings". Judged by the simulator's book and what leaves the relay.
describe('input and settings', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  it('case 14: a JSON alert sent as text/plain with a trailing newline is read as JSON', async () => {
    rig = await startTestRig();
    const json = `${JSON.stringify({ relay_user: 'bob', relay_id: 'A', command: 'PLACE', account: 'Sim101', instrument: 'ES 03-26', action: 'BUY', qty: 1, order_type: 'MARKET', tif: 'DAY', prev_market_position: 'flat', market_position: 'long' })}\n`;
    expect((await rig.post(json, 'text/plain; charset=utf-8')).body).toMatchObject({ decision: 'forwarded', signal_type: 'entry' });
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 14: a key=value alert sent as application/json is read as text', async () => {
    rig = await startTestRig();
    expect((await rig.post(entry('A'), 'application/json')).body).toMatchObject({ decision: 'forwarded', signal_type: 'entry' });
    expect(rig.book()).toEqual(['Long 1']);
  });

  it.each([
    ['after market_position', `${entry('A').replace('market_position=long;', 'market_position=long relay_secret=hunter2;')}`],
    ['inside a comment', entry('A', { extra: 'comment=go relay_secret=hunter2' })],
    ['as a key inside a comment', entry('A', { extra: 'comment=go key=hunter2' })],
  ])('case 15: a secret that lost its separator (%s) never appears in a response, a log line or a stored alert', async (_where, text) => {
    rig = await startTestRig();
    const answer = await rig.post(text);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).not.toContain('hunter2');
    expect(rig.sim.received).toHaveLength(0);
    expect(JSON.stringify(await rig.relay.store.listLogs({ limit: 10 }))).not.toContain('hunter2');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rig.logFileText()).not.toContain('hunter2');
    expect(rig.book()).toEqual([]);
  });

  it('case 16: refuses a fill grace of 0 at start, with the reason', () => {
    expect(() => loadConfig({ RELAY_FILL_GRACE_SECONDS: '0' })).toThrow(/RELAY_FILL_GRACE_SECONDS must be at least 1/);
  });

  it('case 16: 40 simultaneous contested entries with the real grace: exactly one forward, long 1', async () => {
    rig = await startTestRig();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => rig.post(entry(`S${i}`))));
    expect(answers.filter((a) => a.body.decision === 'forwarded')).toHaveLength(1);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it.each([
    ['an exit', exit('A', { instrument: 'ES 13-26' })],
    ['a FLATTEN', command('A', 'command=FLATTEN', 'Sim101', 'ES 13-26')],
    ['a PLACE without position fields', command('A', 'command=PLACE; action=BUY; qty=1; order_type=MARKET; tif=DAY', 'Sim101', 'ES 13-26')],
    ['a REVERSE', command('A', 'command=REVERSE', 'Sim101', 'ES 13-26')],
    ['an entry', entry('A', { instrument: 'ES 13-26' })],
  ])('case 17: %s on an instrument the relay cannot read is not sent around arbitration', async (_what, text) => {
    rig = await startTestRig();
    const answer = await rig.post(text);
    expect(['blocked', 'dropped']).toContain(answer.body.decision);
    expect(answer.body.reason).toMatch(/^instrument-unreadable: /);
    expect(rig.sim.received).toHaveLength(0);
  });
});
