import type { FastifyReply } from 'fastify';

/** The answer to an address the admin lockout has halted: the same words as the management API's 429. */
export function refuseLockedOut(reply: FastifyReply) {
  return reply.code(429).type('text/plain; charset=utf-8').send('too many failed admin attempts from this address: try again in 15 minutes');
}
