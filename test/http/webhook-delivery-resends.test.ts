import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookFault } from '../../src/simulator/create-simulator.js';
import { entry, exit, startTestRig, type TestRig } from '../helpers/start-test-relay.js';

// Issue 7, "Resends and repeats": TradingView sends an alert again 5 s later, up to 3 times, when
// the answer is 5xx (docs/external-systems.md §1.1). Each case is judged by the simulator's book.
const RESEND_DELAY_MS = 5_000;

describe('resends and repeats', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  /** TradingView's schedule: the same body again 5 s after each answer, three times. */
  const resendThreeTimes = async (body: string) => {
    const answers = [];
    for (let i = 0; i < 3; i++) {
      rig.advance(RESEND_DELAY_MS);
      answers.push(await rig.post(body));
    }
    return answers;
  };

  const faults: [string, WebhookFault][] = [
    ['takes the order and never answers', { kind: 'hang', apply: true, times: 1 }],
    ['takes the order and answers 500', { kind: 'status', status: 500, apply: true, times: 1 }],
    ['takes the order and drops the connection', { kind: 'drop', apply: true, times: 1 }],
  ];

  describe.each([
    ['with the duplicate window', {}],
    ['with the duplicate window off (the record alone must hold)', { dedupSeconds: 0 }],
  ])('%s', (_name, overrides) => {
    it.each(faults)('case 1: an entry whose webhook %s, resent three times, ends long 1', async (_fault, fault) => {
      rig = await startTestRig(overrides);
      rig.sim.failWebhook(fault);
      const first = await rig.post(entry('A'));
      expect(first.status).toBeLessThan(500);
      expect(first.body.decision).toBe('unknown');
      const resends = await resendThreeTimes(entry('A'));
      for (const r of resends) {
        expect(r.status).toBeLessThan(500);
        expect(r.body.decision).not.toBe('forwarded');
      }
      expect(rig.book()).toEqual(['Long 1']);
    });

    it.each(faults)('case 1: an exit whose webhook %s, resent three times, never leaves an orphan short', async (_fault, fault) => {
      rig = await startTestRig(overrides);
      await rig.post(entry('A'));
      rig.advance(1_000);
      rig.sim.failWebhook(fault);
      const first = await rig.post(exit('A'));
      expect(first).toMatchObject({ status: 200, body: { decision: 'unknown' } });
      await resendThreeTimes(exit('A'));
      expect(rig.book()).toEqual([]);
    });

    it('case 2: the byte-identical entry again 4 s and 20 s later ends long 1', async () => {
      rig = await startTestRig(overrides);
      expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
      rig.advance(4_000);
      expect((await rig.post(entry('A'))).body.decision).not.toBe('forwarded');
      rig.advance(16_000);
      expect((await rig.post(entry('A'))).body.decision).not.toBe('forwarded');
      expect(rig.book()).toEqual(['Long 1']);
    });
  });

  it('case 1: recognises resends over TradingView’s whole schedule as duplicates', async () => {
    rig = await startTestRig();
    rig.sim.failWebhook({ kind: 'status', status: 502, apply: true, times: 1 });
    await rig.post(entry('A'));
    const resends = await resendThreeTimes(entry('A'));
    expect(resends.map((r) => r.body)).toEqual(
      resends.map(() => ({
        decision: 'dropped',
        signal_type: 'entry',
        reason: 'duplicate: the same alert from this strategy arrived within 30 s with nothing of it in between',
      })),
    );
    expect(rig.sim.received).toHaveLength(1);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 3: no decision is ever answered 5xx, so TradingView never resends an order', async () => {
    rig = await startTestRig();
    const statuses: Record<string, number[]> = {};
    const note = async (body: string) => {
      const r = await rig.post(body);
      statuses[r.body.decision] = [...(statuses[r.body.decision] ?? []), r.status];
    };
    await note(entry('A')); // forwarded
    await note(entry('B')); // blocked
    await note(exit('B')); // dropped
    rig.sim.failWebhook({ kind: 'status', status: 400, times: 1 });
    await note(exit('A')); // failed (definite)
    rig.sim.failWebhook({ kind: 'status', status: 503, times: 1 });
    rig.advance(1_000);
    await note(exit('A', { extra: 'comment=second' })); // unknown (ambiguous)
    await note('relay_user=bob; relay_id=A; command=PLACE;;;=x'); // rejected
    expect(Object.keys(statuses).sort()).toEqual(['blocked', 'dropped', 'failed', 'forwarded', 'rejected', 'unknown']);
    for (const [decision, codes] of Object.entries(statuses)) {
      for (const code of codes) expect(code, decision).toBeLessThan(decision === 'rejected' ? 500 : 300);
    }
  });

  it('case 3: lets a legitimate repeat through when another alert of the strategy came between', async () => {
    rig = await startTestRig();
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    rig.advance(3_000);
    expect((await rig.post(exit('A'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual([]);
    rig.advance(3_000);
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 3: with relay_alert_id a resend arriving after a later alert is still the same trigger', async () => {
    rig = await startTestRig();
    const e1 = entry('A', { extra: 'relay_alert_id=2026-11-29T21:00:00Z' });
    expect((await rig.post(e1)).body.decision).toBe('forwarded');
    rig.advance(2_000);
    expect((await rig.post(exit('A', { extra: 'relay_alert_id=2026-11-29T21:00:02Z' }))).body.decision).toBe('forwarded');
    rig.advance(3_000);
    // The first entry's copy, reordered behind the exit: without the id it would pass as a new entry.
    expect((await rig.post(e1)).body).toMatchObject({ decision: 'dropped', reason: 'duplicate: this relay_alert_id was already handled' });
    expect(rig.book()).toEqual([]);
    // A new trigger has a new value.
    expect((await rig.post(entry('A', { extra: 'relay_alert_id=2026-11-29T21:00:05Z' }))).body.decision).toBe('forwarded');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('case 3: strips relay_alert_id before forwarding', async () => {
    rig = await startTestRig();
    await rig.post(entry('A', { extra: 'relay_alert_id=2026-11-29T21:00:00Z' }));
    expect(rig.sim.received[0]?.body).not.toContain('relay_alert_id');
  });
});
