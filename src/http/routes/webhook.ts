import type { FastifyInstance } from 'fastify';
import { handleAlert, type AlertBody, type RelayDeps } from '../../relay/handle-alert.js';

/** POST /webhook: TradingView's alert in, the relay's decision out (always inside TradingView's 3 s). */
export function registerWebhookRoute(app: FastifyInstance, relay: RelayDeps): void {
  app.post('/webhook', async (request, reply) => {
    const body = request.body as AlertBody | string | undefined;
    const result = await handleAlert(relay, typeof body === 'object' ? body : { text: body ?? '', json: false });
    return reply.code(result.status).send(result.body);
  });
}
