import type { PositionKey, Refusal, Settlement } from '../store.js';
import { keyId } from './rows.js';

export type Queued = { kind: 'settle'; settlement: Settlement } | { kind: 'refusal'; refusal: Refusal };

export interface QueueEntry {
  seq: number;
  item: Queued;
  keys: PositionKey[];
}

/** Entries one transaction took from the queue: written when it commits, put back when it fails. */
export interface Claim {
  entries: QueueEntry[];
  /** The transaction committed: the entries are written. */
  commit(): void;
  /** The transaction failed: the entries go back to the queue, in their order. */
  release(): void;
  /** One entry is done (written in a transaction of its own, or given up): it never goes back to the queue. */
  done(entry: QueueEntry): void;
}

/**
 * This process's outcomes and refusals not yet written. Several transactions of the process run at
 * once (one per pooled connection), so an entry is claimed by the one transaction that writes it.
 * Per key the order is kept: a transaction first waits for every other transaction that claimed
 * entries touching its keys (or the keys of the entries it would claim), then claims everything
 * waiting; it locks all those keys, and the database orders it after those others.
 */
export function createOutcomeQueue(options: { onReturned: () => void }) {
  let waiting: QueueEntry[] = [];
  let seq = 0;
  const active = new Set<{ keyIds: Set<string>; entries: QueueEntry[]; settled: Promise<void> }>();

  const keysOf = (item: Queued): PositionKey[] => (item.kind === 'settle' ? item.settlement.keys.map((k) => k.key) : item.refusal.keys);

  return {
    push(item: Queued): void {
      waiting.push({ seq: seq++, item, keys: keysOf(item) });
    },

    /** Entries waiting to be claimed. */
    get waiting(): number {
      return waiting.length;
    },

    /** Entries not yet written: waiting, or claimed by a transaction still running. */
    get pending(): number {
      let n = waiting.length;
      for (const claim of active) n += claim.entries.length;
      return n;
    },

    /** Resolves once every transaction that holds a claim now has ended. */
    async settled(): Promise<void> {
      await Promise.all([...active].map((claim) => claim.settled));
    },

    /**
     * Waits until no running transaction holds entries touching `keys` or the keys of what waits,
     * then claims everything waiting (possibly nothing).
     */
    async claim(keys: readonly PositionKey[]): Promise<Claim> {
      for (;;) {
        const wanted = new Set(keys.map(keyId));
        for (const entry of waiting) for (const key of entry.keys) wanted.add(keyId(key));
        const blockers = [...active].filter((claim) => [...claim.keyIds].some((id) => wanted.has(id)));
        if (blockers.length === 0) break;
        await Promise.all(blockers.map((claim) => claim.settled));
      }
      const entries = waiting;
      waiting = [];
      if (entries.length === 0) return { entries, commit: () => undefined, release: () => undefined, done: () => undefined };
      let settle: () => void = () => undefined;
      const claim = {
        keyIds: new Set(entries.flatMap((entry) => entry.keys.map(keyId))),
        entries,
        settled: new Promise<void>((resolve) => {
          settle = resolve;
        }),
      };
      active.add(claim);
      let open = true;
      const end = () => {
        open = false;
        active.delete(claim);
        settle();
      };
      return {
        entries,
        commit: () => {
          if (open) end();
        },
        release: () => {
          if (!open) return;
          const back = claim.entries;
          waiting = [...back, ...waiting].sort((a, b) => a.seq - b.seq);
          end();
          if (back.length > 0) options.onReturned();
        },
        done: (entry) => {
          claim.entries = claim.entries.filter((e) => e !== entry);
        },
      };
    },
  };
}

export type OutcomeQueue = ReturnType<typeof createOutcomeQueue>;
