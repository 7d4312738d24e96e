import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { alertText, type AlertAnswer } from '../../helpers/start-test-relay.js';

// Issue 10: `kill -9` of one instance mid-burst. The others keep answering; every order the
// simulator received has its signal-log row (written `pending` before the order left); what the
// killed instance left unfinished is closed by the survivors within the instance timeout plus one
// heartbeat, without it restarting.

const TIMEOUT_S = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const entryOn = (i: number) => alertText({ relayId: `S${i}`, prev: 'flat', now: 'long', account: `Sim${i}` });

describe('an instance killed mid-burst', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('leaves the others answering, every order logged, and its unfinished rows closed by the survivors within the bound', async () => {
    cluster = await startPgCluster({ size: 3, spawn: { RELAY_INSTANCE_TIMEOUT_SECONDS: String(TIMEOUT_S) } });
    const c = cluster;
    const victim = c.spawned[0]!;
    const [registered] = await c.query<{ id: string }>('SELECT id::text AS id FROM relay_instances WHERE pid = $1', [victim.child.pid]);
    const victimId = registered?.id;
    expect(victimId).toBeDefined();
    // CrossTrade answers after 700 ms (the order applied at once): orders are in flight when the kill comes.
    c.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 700 });
    // The survivors judge others only once their own heartbeats were answered for the whole timeout.
    await sleep(TIMEOUT_S * 1000 + 200);

    const sent: { i: number; to: number; answer: Promise<{ status: number; body: AlertAnswer } | Error> }[] = [];
    let killedAt = 0;
    let left: { n: number }[] = [];
    let leftKeys: { n: number }[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 30) {
        victim.child.kill('SIGKILL');
        killedAt = Date.now();
        // What it left: orders in flight, their rows pending.
        left = await c.query("SELECT count(*)::int AS n FROM signal_log WHERE decision = 'pending' AND instance_id = $1", [victimId]);
        leftKeys = await c.query("SELECT count(*)::int AS n FROM key_records WHERE doubt = 'in-flight' AND in_flight_instance = $1", [victimId]);
      }
      const to = killedAt === 0 ? i % 3 : 1 + (i % 2);
      sent.push({ i, to, answer: c.post(to, entryOn(i)).catch((error: unknown) => error as Error) });
      await sleep(20);
    }
    expect(left[0]?.n).toBeGreaterThan(0);
    expect(leftKeys[0]?.n).toBeGreaterThan(0);

    const answers = await Promise.all(sent.map(async (s) => ({ ...s, answer: await s.answer })));
    const toSurvivors = answers.filter((a) => a.to !== 0);
    expect(toSurvivors.length).toBeGreaterThanOrEqual(40);
    // Every alert sent to a survivor is answered: its own key, nobody owns it, so forwarded.
    expect(
      toSurvivors.map((a) => (a.answer instanceof Error ? a.answer.message : `${a.answer.status} ${a.answer.body.decision} ${a.answer.body.reason}`)),
    ).toEqual(toSurvivors.map(() => '200 forwarded entry: nobody owns the position'));

    // Closed by the survivors, without a restart.
    const unfinished = async () =>
      (
        await c.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM signal_log WHERE decision = 'pending') + (SELECT count(*) FROM key_records WHERE doubt = 'in-flight') AS n`,
        )
      )[0]?.n;
    while (Number(await unfinished()) > 0) {
      expect(Date.now() - killedAt).toBeLessThan(TIMEOUT_S * 1000 + 1000 + 1000);
      await sleep(50);
    }
    const closedAfterMs = Date.now() - killedAt;
    // Not before the timeout: the killed instance's last heartbeat was at most 1 s before the kill.
    expect(closedAfterMs).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 1000);
    expect(closedAfterMs).toBeLessThan(TIMEOUT_S * 1000 + 1000 + 1000);
    expect(victim.child.exitCode === null && victim.child.signalCode === 'SIGKILL').toBe(true);

    const reason = `outcome-unknown: interrupted, the relay instance on ${os.hostname()} (pid ${victim.child.pid}) stopped before CrossTrade answered (no heartbeat for ${TIMEOUT_S} s); the order may have been sent: the next alert of this position is checked against CrossTrade`;
    const victimRows = await c.query<{ decision: string; reason: string }>(
      "SELECT decision, reason FROM signal_log WHERE instance_id = $1 AND decision <> 'forwarded'",
      [victimId],
    );
    expect(victimRows.length).toBe(left[0]?.n);
    expect(victimRows).toEqual(victimRows.map(() => ({ decision: 'unknown', reason })));
    expect(await c.query("SELECT doubt FROM key_records WHERE doubt = 'unknown-outcome'")).toHaveLength(leftKeys[0]?.n ?? -1);
    expect((await c.query<{ pid: number }>('SELECT pid FROM relay_instances ORDER BY pid')).map((r) => r.pid).sort()).toEqual(
      [c.spawned[1]?.child.pid, c.spawned[2]?.child.pid].sort(),
    );
    expect(c.spawned.slice(1).some((s) => s.output().includes('a relay instance stopped'))).toBe(true);

    // Every order CrossTrade received has its row: forwarded, or unknown when its instance died before the answer.
    const rows = await c.query<{ account: string; decision: string }>('SELECT account, decision FROM signal_log');
    for (const received of c.sim.received) {
      const account = /account=([^;]+);/.exec(received.body)?.[1];
      expect(rows.filter((r) => r.account === account).map((r) => r.decision)).toEqual([expect.stringMatching(/^(forwarded|unknown)$/)]);
    }
    expect(c.sim.received.length).toBeGreaterThanOrEqual(rows.filter((r) => r.decision === 'forwarded').length);

    // A key the killed instance left is checked against CrossTrade and goes on: its strategy's exit is sent.
    c.sim.failWebhook(null);
    const receivedAccounts = c.sim.received.map((r) => /account=([^;]+);/.exec(r.body)?.[1]);
    const orphaned = answers.find(
      (a) => a.to === 0 && rows.find((r) => r.account === `Sim${a.i}`)?.decision === 'unknown' && receivedAccounts.includes(`Sim${a.i}`),
    );
    expect(orphaned).toBeDefined();
    const i = orphaned?.i ?? -1;
    const exit = await c.post(1, alertText({ relayId: `S${i}`, prev: 'long', now: 'flat', action: 'SELL', account: `Sim${i}` }));
    expect(exit.status).toBe(200);
    expect(exit.body.decision).toBe('forwarded');
    expect(c.book(`Sim${i}`)).toEqual([]);
  });
});
