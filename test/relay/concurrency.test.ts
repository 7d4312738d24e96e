import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, entry, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';
import { spawnRelay, type SpawnedRelay } from '../helpers/spawn-relay.js';

const post = async (url: string, body: string) => {
  const response = await fetch(`${url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
  return (await response.json()) as { decision: string };
};

describe('concurrency: one forward per contested position', () => {
  let rig: TestRig;
  const spawned: SpawnedRelay[] = [];
  afterEach(async () => {
    await Promise.all(spawned.splice(0).map((s) => s.stop()));
    await rig.close();
  });

  it('forwards exactly one of 40 simultaneous entries from 40 strategies', async () => {
    rig = await startTestRig(); // the real fill grace (10 s)
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(rig.relay.url, entry(`S${i}`))));
    expect(answers.filter((a) => a.decision === 'forwarded')).toHaveLength(1);
    expect(answers.filter((a) => a.decision === 'blocked')).toHaveLength(39);
    expect(rig.sim.received).toHaveLength(1);
    const owner = await rig.relay.store.listPositions('bob');
    expect(owner).toHaveLength(1);
    expect(rig.sim.received[0]?.body).toContain('command=PLACE');
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('forwards exactly one also when stale ownership makes all 40 ask CrossTrade at once', async () => {
    rig = await startTestRig();
    await post(rig.relay.url, entry('OLD'));
    rig.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // the old owner was stopped out
    rig.advance(10_001); // past OLD's fill grace: only CrossTrade's flat reading can clear it
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(rig.relay.url, entry(`S${i}`))));
    expect(answers.filter((a) => a.decision === 'forwarded')).toHaveLength(1);
    expect(answers.filter((a) => a.decision === 'blocked')).toHaveLength(39);
    expect(rig.sim.received).toHaveLength(2);
    // Concurrent checks for one account are coalesced: CrossTrade allows 180 calls a minute.
    expect(rig.sim.apiCalls).toBeLessThanOrEqual(2);
    expect(await rig.relay.store.listPositions('bob')).toHaveLength(1);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('forwards exactly one of 40 simultaneous entries from two relay users sharing one CrossTrade key (one account group)', async () => {
    rig = await startTestRig();
    await rig.relay.store.saveUser({ relayUser: 'carol', crosstradeKey: USER_KEY, webhookUrl: rig.sim.webhookUrl(USER_KEY) });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post(rig.relay.url, i % 2 === 0 ? entry(`S${i}`) : entry(`S${i}`).replace('relay_user=bob', 'relay_user=carol'))),
    );
    expect(answers.filter((a) => a.decision === 'forwarded')).toHaveLength(1);
    expect(answers.filter((a) => a.decision === 'blocked')).toHaveLength(39);
    expect(rig.sim.received).toHaveLength(1);
    expect(await rig.relay.store.listPositions()).toHaveLength(1);
    expect(rig.book()).toEqual(['Long 1']);
  });

  it('forwards exactly one of 40 entries split across two relay processes sharing one database file', async () => {
    rig = await startTestRig();
    const env = {
      RELAY_DB: rig.config.dbPath,
      RELAY_LOG_FILE: `${rig.config.logFile}.child`,
      CROSSTRADE_API_URL: rig.sim.url,
      RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      RELAY_FILL_GRACE_SECONDS: '10',
    };
    const [a, b] = await Promise.all([spawnRelay(env), spawnRelay(env)]);
    spawned.push(a!, b!);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post((i % 2 === 0 ? a : b)!.url, entry(`S${i}`))));
    expect(answers.filter((x) => x.decision === 'forwarded')).toHaveLength(1);
    expect(rig.sim.received).toHaveLength(1);
    expect(await rig.relay.store.listPositions('bob')).toHaveLength(1);
    expect(await rig.relay.store.listLogs({ relayUser: 'bob', limit: 100 })).toHaveLength(40);
    expect(rig.book()).toEqual(['Long 1']);
  });
});
