import type { Verdict } from './types.js';

export type AlertVerdict =
  | { action: 'forward'; reason: string }
  | { action: 'block'; reason: string }
  | { action: 'drop'; reason: string }
  | { action: 'needs-reading'; reason: string }
  | { action: 'wait'; reason: string };

/**
 * One alert may name several accounts (`account=A,B`, cloned by CrossTrade per account,
 * docs/external-systems.md §2.5). It is forwarded only when every account allows it: a block anywhere
 * blocks it, then a drop anywhere drops it; then a wait anywhere waits, and readings are
 * fetched only when nothing already says no.
 */
export function combineVerdicts(verdicts: readonly { account: string; verdict: Verdict }[]): AlertVerdict {
  if (verdicts.length === 0) throw new TypeError('an alert has at least one key');
  const single = verdicts.length === 1;
  const describe = ({ account, verdict }: { account: string; verdict: Verdict }) => (single ? verdict.reason : `${account}: ${verdict.reason}`);
  for (const action of ['block', 'drop', 'wait', 'needs-reading'] as const) {
    const hits = verdicts.filter((v) => v.verdict.action === action);
    if (hits.length > 0) return { action, reason: hits.map(describe).join('; ') };
  }
  return { action: 'forward', reason: verdicts.map(describe).join('; ') };
}
