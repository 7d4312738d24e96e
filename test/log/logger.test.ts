import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, flatLineLogger } from '../../src/log/logger.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('createLogger', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => temp.cleanup());

  it('rotates the log file by size, keeping a bounded number of old files', async () => {
    const file = temp.file('relay.log');
    const { logger, close } = createLogger({ level: 'info', file, console: false, maxBytes: 2000, keepFiles: 2 });
    for (let i = 0; i < 100; i++) {
      logger.info({ i }, 'a line of about a hundred bytes, enough to pass the limit a few times over');
      await new Promise((resolve) => setTimeout(resolve, 1)); // lines arrive over time, as in a running relay
    }
    await close();
    const files = fs.readdirSync(temp.dir).sort();
    expect(files).toEqual(['relay.log', 'relay.log.1', 'relay.log.2']);
    // Bounded near the limit (a roll waits for the new file to open, so a few lines may overshoot).
    for (const name of files) expect(fs.statSync(temp.file(name)).size).toBeLessThan(4000);
    expect(fs.readFileSync(file, 'utf8')).toContain('"i":99');
  });

  it('drops a line written after close instead of throwing (a pool error can arrive as the relay stops)', async () => {
    const file = temp.file('late.log');
    const { logger, close } = createLogger({ level: 'info', file, console: false });
    logger.info('before');
    await close();
    expect(() => logger.error('a late line')).not.toThrow();
    expect(fs.readFileSync(file, 'utf8')).not.toContain('a late line');
  });

  it('redacts keys, tokens, webhook URLs and authorization headers wherever they are logged', async () => {
    const file = temp.file('redact.log');
    const { logger, close } = createLogger({ level: 'info', file, console: false });
    logger.info(
      {
        key: 'K-SECRET',
        user: { crosstradeKey: 'K2-SECRET', webhookUrl: 'https://x/v1/send/SEG' },
        headers: { authorization: 'Bearer T-SECRET' },
        token: 'T2-SECRET',
      },
      'x',
    );
    await close();
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of ['K-SECRET', 'K2-SECRET', '/v1/send/SEG', 'T-SECRET', 'T2-SECRET']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('redacts top-level secrets on the fast decision-line logger too', async () => {
    const file = temp.file('flat.log');
    const { logger, close } = createLogger({ level: 'info', file, console: false });
    flatLineLogger(logger).info({ relay_user: 'bob', key: 'K-SECRET', token: 'T-SECRET', webhookUrl: 'https://x/v1/send/SEG' }, 'alert forwarded');
    await close();
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of ['K-SECRET', 'T-SECRET', '/v1/send/SEG']) expect(text).not.toContain(secret);
    expect(text).toContain('"relay_user":"bob"');
  });
});
