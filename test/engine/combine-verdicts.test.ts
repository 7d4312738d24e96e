import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AlertVerdict, combineVerdicts } from '../../src/engine/combine-verdicts.js';
import type { Outcome, Verdict } from '../../src/engine/types.js';

const same: Outcome = { record: { owner: null, doubt: null }, marks: [] };
const verdictOf = (action: Verdict['action'], reason: string): Verdict => {
  switch (action) {
    case 'forward':
      return { action, reason, send: same, delivered: same, unknown: same, refused: same };
    case 'block':
    case 'drop':
      return { action, reason, send: null };
    case 'needs-reading':
    case 'wait':
      return { action, reason };
  }
};
const f = verdictOf('forward', 'entry: nobody owns the position');
const b = verdictOf('block', 'position-open: owned by B, CrossTrade reports Long 1 ES 03-26');
const d = verdictOf('drop', 'phantom-exit: owned by B');
const w = verdictOf('wait', 'order-in-flight: waiting for the outcome of the previous order of this key');
const n = verdictOf('needs-reading', 'contested: owned by B');
const V = { f, b, d, w, n } as const;
type Letter = keyof typeof V;

const ACCOUNTS = ['Sim101', 'Sim102', 'Sim103'];
const combine = (letters: readonly Letter[]): AlertVerdict => combineVerdicts(letters.map((l, i) => ({ account: ACCOUNTS[i] ?? `acc${i}`, verdict: V[l] })));

describe('combineVerdicts: one account', () => {
  it.each([
    ['f', 'forward'],
    ['b', 'block'],
    ['d', 'drop'],
    ['w', 'wait'],
    ['n', 'needs-reading'],
  ] as const)('%s → %s, with the verdict’s own reason (no account prefix)', (letter, action) => {
    expect(combine([letter])).toEqual({ action, reason: V[letter].reason });
  });
});

describe('combineVerdicts: several accounts (forwarded only when every account allows it)', () => {
  // Precedence: block, then drop, then wait, then needs-reading, then forward; the reason lists only the accounts of the winning action.
  it.each([
    [['f', 'f'], 'forward', `Sim101: ${f.reason}; Sim102: ${f.reason}`],
    [['f', 'b'], 'block', `Sim102: ${b.reason}`],
    [['b', 'f'], 'block', `Sim101: ${b.reason}`],
    [['b', 'b'], 'block', `Sim101: ${b.reason}; Sim102: ${b.reason}`],
    [['d', 'b'], 'block', `Sim102: ${b.reason}`],
    [['w', 'b'], 'block', `Sim102: ${b.reason}`],
    [['n', 'b'], 'block', `Sim102: ${b.reason}`],
    [['f', 'd'], 'drop', `Sim102: ${d.reason}`],
    [['d', 'd'], 'drop', `Sim101: ${d.reason}; Sim102: ${d.reason}`],
    [['w', 'd'], 'drop', `Sim102: ${d.reason}`],
    [['n', 'd'], 'drop', `Sim102: ${d.reason}`],
    [['f', 'w'], 'wait', `Sim102: ${w.reason}`],
    [['n', 'w'], 'wait', `Sim102: ${w.reason}`],
    [['w', 'w'], 'wait', `Sim101: ${w.reason}; Sim102: ${w.reason}`],
    [['f', 'n'], 'needs-reading', `Sim102: ${n.reason}`],
    [['n', 'n'], 'needs-reading', `Sim101: ${n.reason}; Sim102: ${n.reason}`],
    [['f', 'n', 'b'], 'block', `Sim103: ${b.reason}`],
    [['d', 'n', 'w'], 'drop', `Sim101: ${d.reason}`],
    [['f', 'f', 'n'], 'needs-reading', `Sim103: ${n.reason}`],
    [['f', 'f', 'f'], 'forward', `Sim101: ${f.reason}; Sim102: ${f.reason}; Sim103: ${f.reason}`],
  ] as const)('%o → %s', (letters, action, reason) => {
    expect(combine(letters)).toEqual({ action, reason });
  });

  it('refuses an alert without any key', () => {
    expect(() => combineVerdicts([])).toThrow(TypeError);
  });

  it('properties: the action is the strongest "no" of any account, and forward only when all forward', () => {
    const ORDER: readonly Verdict['action'][] = ['block', 'drop', 'wait', 'needs-reading', 'forward'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom<Letter>('f', 'b', 'd', 'w', 'n'), { minLength: 1, maxLength: 6 }), (letters) => {
        const combined = combine(letters);
        const actions = letters.map((l) => V[l].action);
        const strongest = ORDER.find((a) => actions.includes(a));
        expect(combined.action).toBe(strongest);
        expect(combined.action === 'forward').toBe(actions.every((a) => a === 'forward'));
        // Every account that gave the winning action is named in the reason, and no other.
        const named = letters.flatMap((l, i) => (V[l].action === combined.action ? [ACCOUNTS[i] ?? `acc${i}`] : []));
        if (letters.length > 1) expect(combined.reason.split('; ').map((part) => part.split(': ')[0])).toEqual(named);
      }),
    );
  });
});
