import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INTERRUPTED_REASON, startRelay } from '../src/start-relay.js';
import { entry, startTestRig } from './helpers/start-test-relay.js';

describe('startRelay', () => {
  it('logs the URL to paste into TradingView and warns that TradingView only delivers to ports 80 and 443', async () => {
    const rig = await startTestRig();
    try {
      await rig.relay.close();
      const lines = rig
        .logFileText()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(lines.find((l) => l.msg.startsWith('TradingView webhook URL'))?.msg).toBe(`TradingView webhook URL: http://127.0.0.1:${rig.relay.port}/webhook`);
      const warning = lines.find((l) => l.msg.includes('neither 80 nor 443'));
      expect(warning?.level).toBe(40);
      expect(warning?.msg).toContain(`port ${rig.relay.port} is neither 80 nor 443: TradingView only delivers webhooks to ports 80 and 443`);
    } finally {
      await rig.close();
    }
  });

  it('closes forwards left pending as `unknown` at start, yet lets a relay still running on the same file settle its own order', async () => {
    const rig = await startTestRig();
    try {
      // CrossTrade takes the order and answers 0.3 s later; meanwhile a second relay starts on the same file.
      rig.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 300, times: 1 });
      const pending = rig.post(entry('A'));
      while (rig.sim.received.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await startRelay({ ...rig.config, logFile: `${rig.config.logFile}.second` });
      try {
        // The starting relay cannot tell a crashed forward from a running one: never `failed`, the outcome is unknown.
        expect(second.store.listLogs({ limit: 5 }).map((l) => [l.decision, l.reason])).toEqual([['unknown', INTERRUPTED_REASON]]);
        expect(second.store.listPositions().map((p) => [p.relayId, p.doubt])).toEqual([['A', 'unknown-outcome']]);
        expect((await pending).body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: nobody owns the position' });
        await new Promise((resolve) => setImmediate(resolve)); // the outcome is written just after the answer
        expect(rig.relay.store.listLogs({ limit: 5 }).map((l) => l.decision)).toEqual(['forwarded']);
        expect(rig.relay.store.listPositions().map((p) => [p.relayId, p.doubt])).toEqual([['A', null]]);
      } finally {
        await second.close();
      }
      expect(fs.readFileSync(`${rig.config.logFile}.second`, 'utf8')).toContain('their outcome is unknown (logged as unknown)');
      expect(rig.book()).toEqual(['Long 1']);
    } finally {
      await rig.close();
    }
  });
});
