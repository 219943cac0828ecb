import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { WorkQueue } from './work-queue.js';

/** What a controller loop drives, as controller-runtime's Reconciler: it knows the kind, the loop does not. */
export interface Reconciler {
  /** Brings the object named by `key` to its desired state; a rejection retries the key with backoff. */
  reconcile(key: string): Promise<void>;
}

/** How a reconcile ends; a Reconciler asks for a later look itself, through the queue. */
export const RECONCILE_RESULTS = ['success', 'error'] as const;
export type ReconcileResult = (typeof RECONCILE_RESULTS)[number];

/** What a controller loop reports, as controller-runtime's controller metrics hear it. */
export interface ControllerLoopMetrics {
  /** How many reconciles may run at once: the number of workers, once at start. */
  workers(count: number): void;
  /** Workers holding a key, after each change. */
  activeWorkers(count: number): void;
  /** One reconcile over, with its result and duration. */
  reconciled(result: ReconcileResult, seconds: number): void;
}

export interface ControllerLoopOptions {
  readonly reconciler: Reconciler;
  readonly queue: WorkQueue;
  readonly workers: number;
  readonly log: Logger;
  readonly metrics?: ControllerLoopMetrics;
}

/**
 * Runs controller-runtime's worker loop: each worker takes a key from the queue and reconciles it;
 * a success forgets the key's past failures, a failure re-queues it with backoff. Returns one
 * promise per worker, each resolved once the queue shuts down.
 */
export function runControllerLoop(options: ControllerLoopOptions): Promise<void>[] {
  const { reconciler, queue, log, metrics } = options;
  let active = 0;
  metrics?.workers(options.workers);
  metrics?.activeWorkers(active);

  const worker = async (): Promise<void> => {
    for (;;) {
      // Reconciles served from the caches never touch I/O; yielding here keeps watch events,
      // timers and signals flowing however full the queue is.
      await yieldToEventLoop();
      const key = await queue.get();
      if (key === undefined) return;
      metrics?.activeWorkers(++active);
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        await reconciler.reconcile(key);
        queue.forget(key);
        metrics?.reconciled('success', seconds());
      } catch (error) {
        metrics?.reconciled('error', seconds());
        log.warn({ key, err: error }, 'reconcile failed; will retry');
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
        metrics?.activeWorkers(--active);
      }
    }
  };
  return Array.from({ length: options.workers }, () => worker());
}
