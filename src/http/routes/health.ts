import type { FastifyInstance } from 'fastify';

/** How long /health waits for the database (PostgreSQL) before it answers 503 (ms): a load balancer's check times out in a few seconds. */
export const HEALTH_DATABASE_BUDGET_MS = 500;

/**
 * GET /health: public, tells a monitor (or the start-up check) that the relay answers. With
 * `database` (PostgreSQL, several instances behind a load balancer), it also asks the database
 * within HEALTH_DATABASE_BUDGET_MS and answers 503 when it does not answer, so the balancer takes
 * this instance out; the answer never names the database. Without it (SQLite, a file on this
 * machine) the relay's answering is the check.
 */
export function registerHealthRoute(
  app: FastifyInstance,
  startedAt: number,
  now: () => number,
  database: { ping(timeoutMs: number): Promise<boolean> } | null = null,
): void {
  app.get('/health', async (_request, reply) => {
    if (database !== null && !(await database.ping(HEALTH_DATABASE_BUDGET_MS))) {
      return reply.code(503).send({ status: 'unavailable', reason: `the database did not answer within ${HEALTH_DATABASE_BUDGET_MS} ms` });
    }
    return { status: 'ok', uptime_s: Math.round((now() - startedAt) / 1000) };
  });
}
