import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../../controller/api/run.js';
import { BOOKKEEPING_MS, PROMPT_MS, ROUTINE_MS, StatusPacer } from '../../../controller/runs/status-pacing.js';

const status = (phase: RunStatus['phase'], reason: string): RunStatus => ({ phase, reason });
const arrived = (at = 0) => {
  const pacer = new StatusPacer();
  pacer.arrived('ns/run', at);
  return pacer;
};

describe('StatusPacer', () => {
  it('writes a final phase at once, however recent the last write', () => {
    const pacer = arrived();
    expect(pacer.delay('ns/run', status('succeeded', 'Completed'), 10)).toBe(0);
    pacer.wrote('ns/run', 10);
    expect(pacer.delay('ns/run', status('failed', 'Error'), 20)).toBe(0);
  });

  it('publishes running, and trouble, once it has lasted PROMPT_MS, and a run at most that often', () => {
    const pacer = arrived();
    expect(pacer.delay('ns/run', status('running', 'Running'), 500)).toBe(PROMPT_MS);
    expect(pacer.delay('ns/run', status('running', 'Running'), 500 + PROMPT_MS)).toBe(0);
    pacer.wrote('ns/run', 500 + PROMPT_MS);
    // Trouble that began well before the last write still waits for the write interval.
    const unschedulable = status('unschedulable', 'InsufficientGPU');
    expect(pacer.delay('ns/run', unschedulable, 3000)).toBe(PROMPT_MS);
    expect(pacer.delay('ns/run', unschedulable, 3000 + PROMPT_MS)).toBe(0);
  });

  it('publishes a routine step only once it has lasted ROUTINE_MS, counted from when the step began', () => {
    const pacer = arrived();
    expect(pacer.delay('ns/run', status('created', 'Admitted'), 0)).toBe(ROUTINE_MS);
    const waiting = status('queued', 'WaitingForScheduler');
    expect(pacer.delay('ns/run', waiting, 3000)).toBe(ROUTINE_MS);
    expect(pacer.delay('ns/run', waiting, 4000)).toBe(ROUTINE_MS - 1000);
    expect(pacer.delay('ns/run', waiting, 3000 + ROUTINE_MS)).toBe(0);
  });

  it('publishes the Job making its pod only once that has lasted BOOKKEEPING_MS', () => {
    const pacer = arrived();
    const making = status('created', 'WorkloadCreated');
    expect(pacer.delay('ns/run', making, 1000)).toBe(BOOKKEEPING_MS);
    expect(pacer.delay('ns/run', making, 1000 + ROUTINE_MS)).toBe(BOOKKEEPING_MS - ROUTINE_MS);
    expect(pacer.delay('ns/run', making, 1000 + BOOKKEEPING_MS)).toBe(0);
    // Unless it cannot: a FailedCreate warning is trouble, published promptly.
    expect(pacer.delay('ns/run', status('warning', 'QuotaExceeded'), 3000)).toBe(PROMPT_MS);
  });

  it('publishes the Job recording a success only once that has lasted BOOKKEEPING_MS', () => {
    const pacer = arrived();
    pacer.delay('ns/run', status('running', 'Running'), 0);
    pacer.wrote('ns/run', PROMPT_MS);
    const completing = status('running', 'Completing');
    expect(pacer.delay('ns/run', completing, 5000)).toBe(BOOKKEEPING_MS);
    expect(pacer.delay('ns/run', completing, 5000 + ROUTINE_MS)).toBe(BOOKKEEPING_MS - ROUTINE_MS);
    expect(pacer.delay('ns/run', completing, 5000 + BOOKKEEPING_MS)).toBe(0);
  });

  it('does not hold back running behind the routine steps before it', () => {
    const pacer = arrived();
    pacer.delay('ns/run', status('created', 'WorkloadCreated'), 0);
    pacer.delay('ns/run', status('queued', 'WaitingForScheduler'), 1000);
    pacer.delay('ns/run', status('running', 'Running'), 2500);
    expect(pacer.delay('ns/run', status('running', 'Running'), 2500 + PROMPT_MS)).toBe(0);
  });

  it('never publishes a step that passed sooner than it had to last', () => {
    const pacer = arrived();
    expect(pacer.delay('ns/run', status('running', 'Running'), 3000)).toBeGreaterThan(0);
    expect(pacer.delay('ns/run', status('running', 'Completing'), 4000)).toBeGreaterThan(0);
    expect(pacer.delay('ns/run', status('succeeded', 'Completed'), 4500)).toBe(0);
  });

  it('forgets a run: a new run of the same name starts its own clock', () => {
    const pacer = arrived();
    pacer.wrote('ns/run', 100);
    pacer.forget('ns/run');
    pacer.arrived('ns/run', 50_000);
    pacer.delay('ns/run', status('running', 'Running'), 50_000);
    expect(pacer.delay('ns/run', status('running', 'Running'), 50_500)).toBe(PROMPT_MS - 500);
  });
});
