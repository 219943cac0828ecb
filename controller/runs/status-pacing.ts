import { REASON } from '../api/reasons.js';
import type { RunStatus } from '../api/run.js';
import { isFinalStatus } from './run-status.js';

/** Running, and anything a user must act on, is published once it has lasted this long. */
export const PROMPT_MS = 2000;
/** Routine progress is published once it has lasted this long. */
export const ROUTINE_MS = 10_000;
/**
 * A step that waits only on the bookkeeping of Kubernetes' own controllers is published once it
 * has lasted this long: the Job or Deployment controller making the pod it was asked for, or
 * recording a pod's success. Should the work fail, that is a step of its own (a FailedCreate
 * warning, a failed Job), published promptly. Otherwise the step lasts as long as the control plane
 * lags behind, so writing it sooner would add load where there is already too much; by now it is a
 * stall.
 */
export const BOOKKEEPING_MS = 60_000;

/** How long each healthy step on the way to running or to done must last; anything else is news. */
const LASTING_MS: ReadonlyMap<string, number> = new Map([
  ...[
    REASON.Admitted,
    REASON.WaitingForScheduler,
    REASON.Scheduled,
    REASON.ContainerCreating,
    REASON.ContainersNotReady,
  ].map((reason) => [reason, ROUTINE_MS] as const),
  ...[REASON.WorkloadCreated, REASON.Completing].map((reason) => [reason, BOOKKEEPING_MS] as const),
]);

/**
 * When a run's new status is worth an API write. A status is a summary, not a log, and every
 * write is validated, stored and sent to every watcher. A final phase goes out at once. Any other
 * step goes out once it has lasted: running and trouble (unschedulable, a warning, a retry, a
 * quota wait) PROMPT_MS, routine progress ROUTINE_MS, as a stuck step does, and the built-in
 * controllers' bookkeeping BOOKKEEPING_MS; and a run is written at most every PROMPT_MS. A step
 * that passes sooner was never worth showing: a run that finishes quickly is written once, when
 * done.
 */
export class StatusPacer {
  /** Per run (by uid): when it arrived and was last written, and which step it is in since when. */
  private readonly runs = new Map<string, { arrivedAt: number; writtenAt?: number; step?: string; since?: number }>();

  /** Starts a run's clock; later calls keep the first arrival. */
  arrived(key: string, now: number): void {
    if (!this.runs.has(key)) this.runs.set(key, { arrivedAt: now });
  }

  forget(key: string): void {
    this.runs.delete(key);
  }

  /** Milliseconds to wait before writing `next`; 0 means write now. */
  delay(key: string, next: RunStatus, now: number): number {
    const run = this.runs.get(key) ?? { arrivedAt: 0 };
    this.runs.set(key, run);
    const step = `${next.phase}/${next.reason}`;
    if (run.step !== step) {
      run.step = step;
      run.since = now;
    }
    if (isFinalStatus(next)) return 0;
    const lasting = LASTING_MS.get(next.reason ?? '') ?? PROMPT_MS;
    const sinceWrite = now - (run.writtenAt ?? run.arrivedAt);
    return Math.max(0, PROMPT_MS - sinceWrite, lasting - (now - (run.since ?? now)));
  }

  wrote(key: string, now: number): void {
    const run = this.runs.get(key);
    if (run) run.writtenAt = now;
    else this.runs.set(key, { arrivedAt: now, writtenAt: now });
  }
}
