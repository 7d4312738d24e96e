import { describe, expect, it } from 'vitest';
import { startTestRig } from './helpers/start-test-relay.js';

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
});
