import type { FastifyInstance } from 'fastify';

/** GET /health: public, tells a monitor (or the start-up check) that the relay answers. */
export function registerHealthRoute(app: FastifyInstance, startedAt: number, now: () => number): void {
  app.get('/health', async () => ({ status: 'ok', uptime_s: Math.round((now() - startedAt) / 1000) }));
}
