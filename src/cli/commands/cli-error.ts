/** A failure the user can act on: printed as `error: <message>`, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}
