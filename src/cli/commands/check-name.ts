import { firstIssue, relayUserSchema } from '../../http/schemas.js';
import { CliError } from './cli-error.js';

/** The relay_user argument, or a CliError with the schema's reason. */
export function checkName(name: string): string {
  const result = relayUserSchema.safeParse(name);
  if (!result.success) throw new CliError(firstIssue(result.error));
  return result.data;
}
