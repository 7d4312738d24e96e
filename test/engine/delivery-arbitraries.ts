// fast-check generators of delivery runs for the model in delivery-model.ts, and how a run is played.
import fc from 'fast-check';
import {
  ALERT_KINDS,
  type AlertKind,
  type Choices,
  type DeliveryEvent,
  SETTINGS,
  type World,
  applyEvent,
  canHappen,
  checkStacking,
  initialWorld,
  traceState,
} from './delivery-model.js';

/** A strategy fires; a kind its position does not allow becomes the next kind that it allows (see `resolve`). */
const fireArb = (strategies: number) =>
  fc.record({
    kind: fc.constant('fire' as const),
    strategy: fc.integer({ min: 0, max: strategies - 1 }),
    alert: fc.constantFrom(...ALERT_KINDS),
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 40_000 })),
  });
const dtArb = fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 15_000 }));
const flagArb = fc.constantFrom<DeliveryEvent>(
  { kind: 'busy' },
  { kind: 'hold' },
  { kind: 'lose' },
  { kind: 'ambiguous' },
  { kind: 'definite' },
  { kind: 'slow' },
  { kind: 'hang' },
  { kind: 'unknown-reading' },
);
const worldEventArb = fc.oneof(
  fc.record({ kind: fc.constantFrom('resend' as const, 'dup' as const, 'late' as const, 'fill' as const, 'close' as const), dt: dtArb }),
  fc.constant<DeliveryEvent>({ kind: 'later' }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 0, max: 12_000 }), fc.integer({ min: 0, max: 700_000 })) }),
);
const eventArb = (strategies: number): fc.Arbitrary<DeliveryEvent> =>
  fc.oneof({ arbitrary: fireArb(strategies), weight: 6 }, { arbitrary: flagArb, weight: 3 }, { arbitrary: worldEventArb, weight: 3 });

export interface Run {
  strategies: number;
  alertIds: boolean;
  sizes: boolean;
  events: DeliveryEvent[];
  /** Where ambiguously failed forwards went, in turn (cycled). */
  reached: boolean[];
  /** Fill lags in ms, in turn (cycled). */
  lags: number[];
}

export const runArb = (maxEvents: number): fc.Arbitrary<Run> =>
  fc.integer({ min: 2, max: 3 }).chain((strategies) =>
    fc.record({
      strategies: fc.constant(strategies),
      alertIds: fc.boolean(),
      sizes: fc.boolean(),
      events: fc.array(eventArb(strategies), { minLength: 1, maxLength: maxEvents, size: 'max' }),
      reached: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      lags: fc.array(fc.integer({ min: 0, max: SETTINGS.fillGraceMs - 1 }), { minLength: 1, maxLength: 8 }),
    }),
  );

function cycling<T>(values: readonly T[]): () => T {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** A `fire` whose kind the strategy's position does not allow becomes the next kind it allows. */
function resolve(w: World, e: DeliveryEvent): DeliveryEvent {
  if (e.kind !== 'fire' || canHappen(w, e)) return e;
  const start = ALERT_KINDS.indexOf(e.alert);
  for (let k = 1; k < ALERT_KINDS.length; k++) {
    const alert: AlertKind = ALERT_KINDS[(start + k) % ALERT_KINDS.length]!;
    if (canHappen(w, { ...e, alert })) return { ...e, alert };
  }
  return e;
}

/** Plays a run; the world it ends in (stopped at the first breach) and the events that happened. */
export function play(run: Run, trace: boolean): { world: World; played: DeliveryEvent[] } {
  const world = initialWorld({ strategies: run.strategies, alertIds: run.alertIds, sizes: run.sizes, trace });
  const reached = cycling(run.reached);
  const lag = cycling(run.lags);
  const choices: Choices = { reached, lagMs: () => lag() };
  const played: DeliveryEvent[] = [];
  for (const raw of run.events) {
    const e = resolve(world, raw);
    if (!canHappen(world, e)) continue;
    played.push(e);
    applyEvent(world, e, choices);
    checkStacking(world);
    traceState(world);
    if (world.violation !== null) break;
  }
  return { world, played };
}
