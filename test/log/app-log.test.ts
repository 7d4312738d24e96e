import { afterEach, describe, expect, it } from 'vitest';
import { command, sleep } from '../helpers/alerts.js';
import { entry, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';

// The application log a trader reads (issue 8, case 8): a failed forward is an error, a block a
// warning, and CrossTrade's answers are in words beside their codes.

interface Line {
  level: number;
  msg: string;
  decision?: string;
  reason?: string;
  explanation?: string;
}

const ERROR = 50;
const WARN = 40;
const INFO = 30;
const PLACE = 'command=PLACE; action=BUY; qty=1; order_type=MARKET; tif=DAY';

describe('application log', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  async function lines(): Promise<Line[]> {
    await sleep(50); // the decision line is written after the answer
    return rig
      .logFileText()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Line);
  }

  it.each([
    [401, 'failed', "CrossTrade refused the key (check the key in add-user / CrossTrade's account settings)"],
    [403, 'failed', "CrossTrade refused the key (check the key in add-user / CrossTrade's account settings)"],
    [408, 'failed', 'NinjaTrader is not connected to CrossTrade (start NinjaTrader and the CrossTrade add-on)'],
    [429, 'failed', "over CrossTrade's rate limit (180 calls a minute per user)"],
    [502, 'unknown', 'CrossTrade answered an error (HTTP 502): outcome unknown, the order may have been placed'],
  ])('a forward CrossTrade answered %i is an error line that says what it means', async (status, decision, words) => {
    rig = await startTestRig();
    rig.sim.failWebhook({ kind: 'status', status });
    expect((await rig.post(entry('A'))).body.decision).toBe(decision);
    const log = await lines();
    expect(log.find((l) => l.msg.startsWith('forward to CrossTrade failed'))).toMatchObject({ level: ERROR, msg: `forward to CrossTrade failed: ${words}` });
    expect(log.find((l) => l.msg.startsWith(`alert ${decision}`))).toMatchObject({ level: ERROR, msg: `alert ${decision}: ${words}`, explanation: words });
    expect(rig.logFileText()).not.toContain(USER_KEY);
  });

  it('a forward that timed out is an error: CrossTrade did not answer, outcome unknown', async () => {
    rig = await startTestRig();
    rig.sim.failWebhook({ kind: 'hang' });
    expect((await rig.post(entry('A'))).body.decision).toBe('unknown');
    const log = await lines();
    expect(log.find((l) => l.msg.startsWith('alert unknown'))).toMatchObject({
      level: ERROR,
      msg: 'alert unknown: CrossTrade did not answer in time: outcome unknown, the order may have been placed',
    });
  });

  it('a block is a warning; NinjaTrader not connected (408 on the position check) is said in words', async () => {
    rig = await startTestRig();
    rig.sim.failApi({ kind: 'status', status: 408 });
    const answer = await rig.post(command('A', PLACE));
    expect(answer.body).toMatchObject({ decision: 'blocked', reason: expect.stringContaining('api-not-connected-408') });
    const line = (await lines()).find((l) => l.msg.startsWith('alert blocked'));
    expect(line).toMatchObject({
      level: WARN,
      msg: 'alert blocked: NinjaTrader is not connected to CrossTrade (start NinjaTrader and the CrossTrade add-on)',
    });
  });

  it('a block by the rules is a warning, a forward an information line', async () => {
    rig = await startTestRig();
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    const log = await lines();
    expect(log.find((l) => l.msg === 'alert forwarded')?.level).toBe(INFO);
    expect(log.find((l) => l.msg === 'alert blocked')?.level).toBe(WARN);
  });
});
