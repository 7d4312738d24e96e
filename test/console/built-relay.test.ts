import { describe, expect, it } from 'vitest';
import { loginConsole } from '../helpers/console-client.js';
import { spawnRelay } from '../helpers/spawn-relay.js';
import { ADMIN_TOKEN } from '../helpers/start-test-relay.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('console of the built relay (dist/, as npm start runs it)', () => {
  it('finds its templates and assets and serves its pages', async () => {
    const temp = makeTempDir();
    const relay = await spawnRelay({ RELAY_DB: temp.file('relay.db'), RELAY_LOG_FILE: temp.file('relay.log'), RELAY_ADMIN_TOKEN: ADMIN_TOKEN });
    try {
      const client = await loginConsole(relay.url);
      for (const path of ['/', '/console/log', '/console/strategies', '/console/users']) expect((await client.get(path)).status).toBe(200);
      const script = await fetch(`${relay.url}/console/assets/console.js`);
      expect(script.status).toBe(200);
      expect(await script.text()).toContain('EventSource');
      expect((await fetch(`${relay.url}/console/assets/console.css`)).status).toBe(200);
    } finally {
      await relay.stop('SIGTERM');
      temp.cleanup();
    }
  });
});
