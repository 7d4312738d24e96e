import type { PositionKey, Refusal, Settlement } from '../store.js';
import type { Unanswered } from './key-work.js';
import { keyId } from '../rows.js';

export type Queued = { kind: 'settle'; settlement: Settlement } | { kind: 'refusal'; refusal: Refusal } | { kind: 'void'; unanswered: Unanswered };

export interface QueueEntry {
  seq: number;
  item: Queued;
  keys: PositionKey[];
  keyIds: string[];
  /** A refusal's fingerprint: a resend of that alert must see it. */
  fingerprint: string | null;
}

/** Entries one transaction took from the queue: written when it commits, put back when it fails. */
export interface Claim {
  entries: QueueEntry[];
  /** The transaction committed: the entries are written. */
  commit(): void;
  /** The transaction failed (or only looked): the entries go back to the queue, in their order; `quiet`: without `onReturned`. */
  release(quiet?: boolean): void;
  /** One entry is done (written in a transaction of its own, or given up): it never goes back to the queue. */
  done(entry: QueueEntry): void;
}

interface ActiveClaim {
  keyIds: Set<string>;
  fingerprints: Set<string>;
  entries: QueueEntry[];
  settled: Promise<void>;
}

/**
 * This process's outcomes and refusals not yet written. Several transactions of the process run at
 * once (one per pooled connection), so an entry is claimed by the one transaction that writes it.
 * Per key the order is kept: a transaction takes every waiting entry that touches its keys, and
 * every entry touching the keys of those (entries that share no key with it stay for others),
 * after waiting for any other transaction holding entries of those keys; it locks all those keys,
 * so the database orders it after those others.
 */
export function createOutcomeQueue(options: { onReturned: () => void }) {
  let waiting: QueueEntry[] = [];
  let seq = 0;
  const active = new Set<ActiveClaim>();

  const keysOf = (item: Queued): PositionKey[] =>
    item.kind === 'settle' ? item.settlement.keys.map((k) => k.key) : item.kind === 'refusal' ? item.refusal.keys : item.unanswered.keys.map((k) => k.key);

  /** The waiting entries that touch `keys` (or carry `fingerprint`), and those that touch theirs, in queue order. */
  const reachedFrom = (keys: readonly PositionKey[], fingerprint: string | null): { entries: Set<QueueEntry>; keyIds: Set<string> } => {
    const keyIds = new Set(keys.map(keyId));
    const entries = new Set<QueueEntry>();
    for (let grew = true; grew; ) {
      grew = false;
      for (const entry of waiting) {
        if (entries.has(entry)) continue;
        if (!entry.keyIds.some((id) => keyIds.has(id)) && (fingerprint === null || entry.fingerprint !== fingerprint)) continue;
        entries.add(entry);
        for (const id of entry.keyIds) keyIds.add(id);
        grew = true;
      }
    }
    return { entries, keyIds };
  };

  return {
    push(item: Queued): void {
      const keys = keysOf(item);
      const fingerprint = item.kind === 'refusal' ? (item.refusal.identity?.fingerprint ?? null) : null;
      waiting.push({ seq: seq++, item, keys, keyIds: keys.map(keyId), fingerprint });
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
     * Waits until no running transaction holds entries touching what this one would take, then
     * takes the waiting entries reached from `keys` and `fingerprint` (all of them with `all`),
     * possibly none.
     */
    async claim(keys: readonly PositionKey[], fingerprint: string | null, all = false): Promise<Claim> {
      let reached: { entries: Set<QueueEntry>; keyIds: Set<string> };
      for (;;) {
        reached = all ? { entries: new Set(waiting), keyIds: new Set(waiting.flatMap((e) => e.keyIds)) } : reachedFrom(keys, fingerprint);
        const ownIds = new Set([...reached.keyIds, ...keys.map(keyId)]);
        const blockers = [...active].filter(
          (claim) => [...claim.keyIds].some((id) => ownIds.has(id)) || (fingerprint !== null && claim.fingerprints.has(fingerprint)),
        );
        if (blockers.length === 0) break;
        await Promise.all(blockers.map((claim) => claim.settled));
      }
      const entries = waiting.filter((entry) => reached.entries.has(entry));
      if (entries.length === 0) return { entries, commit: () => undefined, release: () => undefined, done: () => undefined };
      waiting = waiting.filter((entry) => !reached.entries.has(entry));
      let settle: () => void = () => undefined;
      const claim: ActiveClaim = {
        keyIds: new Set(entries.flatMap((entry) => entry.keyIds)),
        fingerprints: new Set(entries.flatMap((entry) => (entry.fingerprint === null ? [] : [entry.fingerprint]))),
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
        release: (quiet = false) => {
          if (!open) return;
          const back = claim.entries;
          waiting = [...back, ...waiting].sort((a, b) => a.seq - b.seq);
          end();
          if (back.length > 0 && !quiet) options.onReturned();
        },
        done: (entry) => {
          claim.entries = claim.entries.filter((e) => e !== entry);
        },
      };
    },
  };
}

export type OutcomeQueue = ReturnType<typeof createOutcomeQueue>;
