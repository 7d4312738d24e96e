/** Stands in the signal log for a body that was not read or not stored: it may carry a key. */
export function rejectedRecord(reason: string, bytes: number): string {
  return `[not stored: ${reason}, ${bytes} bytes]`;
}
