import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, startPgCluster } from '../../helpers/start-pg-cluster.js';
import { alertText } from '../../helpers/start-test-relay.js';

// A clean stop (SIGTERM) of a relay on PostgreSQL with orders in flight: it waits for them, also
// for those whose sender hung up (the HTTP server no longer waits for those), writes their
// outcomes and only then closes the database. No row is left `pending`, and every order
// CrossTrade received has its row.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const entryOn = (i: number) => alertText({ relayId: `S${i}`, prev: 'flat', now: 'long', account: `Sim${i}` });

describe('a relay on PostgreSQL stopped with SIGTERM mid-flight', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('finishes its forwards, those whose sender hung up too, and leaves no row pending', async () => {
    cluster = await startPgCluster({ size: 1, spawn: {} });
    const c = cluster;
    const relay = c.spawned[0]!;
    // CrossTrade takes each order at once and answers 700 ms later: every order is in flight at the stop.
    c.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 700 });
    const senders = Array.from({ length: 8 }, (_, i) => {
      const hangUp = new AbortController();
      const answer = fetch(`${c.instances[0]?.url}/webhook`, { method: 'POST', body: entryOn(i), signal: hangUp.signal }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as { decision: string } }),
        (error: unknown) => error as Error,
      );
      return { i, hangUp, answer };
    });
    while (c.sim.received.length < senders.length) await sleep(5);
    // Half the senders give up waiting (as TradingView does after 3 s): their forwards go on.
    for (const s of senders.filter((s) => s.i % 2 === 0)) s.hangUp.abort();
    expect(await c.query("SELECT decision FROM signal_log WHERE decision = 'pending'")).toHaveLength(senders.length);

    expect(await relay.stop('SIGTERM')).toBe(0);

    const kept = await Promise.all(senders.filter((s) => s.i % 2 === 1).map((s) => s.answer));
    expect(kept.map((a) => (a instanceof Error ? a.message : `${a.status} ${a.body.decision}`))).toEqual(kept.map(() => '200 forwarded'));
    const rows = await c.query<{ account: string; decision: string }>('SELECT account, decision FROM signal_log ORDER BY account');
    expect(rows.filter((r) => r.decision === 'pending')).toEqual([]);
    expect(await c.query("SELECT account FROM key_records WHERE doubt = 'in-flight'")).toEqual([]);
    // Every order CrossTrade received has its row, with its outcome.
    const received = c.sim.received.map((r) => /account=([^;]+);/.exec(r.body)?.[1]).sort();
    expect(received).toEqual(senders.map((s) => `Sim${s.i}`).sort());
    expect(rows).toEqual(received.map((account) => ({ account, decision: 'forwarded' })));
    // Its registration is gone with it: the other instances have nothing of it to close.
    expect(await c.query('SELECT id FROM relay_instances')).toEqual([]);
  });
});
