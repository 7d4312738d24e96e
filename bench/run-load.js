import autocannon from 'autocannon';

/**
 * One autocannon run against `origin`. `requestsFor(connection)` returns that connection's
 * generator of `{path, body}`. With `rate`, request starts are paced evenly (see pacer below);
 * without, every connection sends its next alert as soon as the last one is answered.
 * Latencies are autocannon's own per-response times (hrtime, write to last byte), kept unrounded.
 */
export async function runLoad({ origin, connections, durationS = undefined, amount = undefined, rate = null, requestsFor }) {
  const latencies = [];
  const statuses = {};
  const pace = rate === null ? null : createPacer(rate);
  let nextConnection = 0;

  const startedAt = performance.now();
  const result = await autocannon({
    url: origin,
    connections,
    ...(amount === undefined ? { duration: durationS } : { amount }),
    // autocannon only looks at its stop flag on this tick: the default 1 s rounds every run up to whole seconds.
    sampleInt: 100,
    timeout: 10,
    setupClient(client) {
      const next = requestsFor(nextConnection++);
      client.setRequests([
        { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, setupRequest: (request) => ({ ...request, ...next() }) },
      ]);
      client.on('response', (status, _bytes, ms) => {
        latencies.push(ms);
        statuses[status] = (statuses[status] ?? 0) + 1;
      });
      if (pace !== null) {
        const send = client._doRequest;
        client._doRequest = function pacedRequest() {
          pace(() => {
            if (!client.destroyed) send.call(client);
          });
        };
      }
    },
  });
  const elapsedS = (performance.now() - startedAt) / 1000;
  const answered = latencies.length;
  const non2xx = answered - Object.entries(statuses).reduce((sum, [s, n]) => sum + (s >= 200 && s < 300 ? n : 0), 0);
  return { answered, elapsedS, rate: answered / elapsedS, latencies, statuses, non2xx, errors: result.errors, timeouts: result.timeouts };
}

/**
 * Evenly spaced request starts at `rate` per second across all connections. autocannon's own
 * `overallRate` releases each connection's per-second quota at once at the top of every second
 * (lib/httpClient.js, `_doRequest` and `rateInterval`): ten bursts of twenty, not a steady 200/s.
 * A connection that is ready waits for the next free slot; slots never pile up to catch up.
 * Hooked in through autocannon 8's `Client#_doRequest`, which `setupClient` may replace.
 */
function createPacer(rate) {
  const interval = 1000 / rate;
  let nextSlot = performance.now();
  return (send) => {
    const now = performance.now();
    const slot = Math.max(nextSlot, now);
    nextSlot = slot + interval;
    if (slot - now < 0.5) send();
    else setTimeout(send, slot - now);
  };
}
