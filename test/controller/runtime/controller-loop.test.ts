import { describe, expect, it } from 'vitest';
import { CONTROLLER_METRICS } from '../../../controller/api/metrics.js';
import { createMetrics } from '../../../controller/metrics.js';
import { runControllerLoop, type Reconciler } from '../../../controller/runtime/controller-loop.js';
import { createLogger } from '../../../controller/runtime/log.js';
import { WorkQueue } from '../../../controller/runtime/work-queue.js';
import { sample } from '../../support/prometheus.js';

const NAME = 'test';
const M = CONTROLLER_METRICS;

/** A loop of `workers` over a real queue and the controller's real metrics, its logs kept as objects. */
function loop(reconciler: Reconciler, options: { workers?: number; baseDelayMs?: number } = {}) {
  const metrics = createMetrics();
  const queue = new WorkQueue({ baseDelayMs: options.baseDelayMs ?? 5, metrics: metrics.workQueue(NAME) });
  const logs: Record<string, unknown>[] = [];
  const log = createLogger('test', { destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  const workers = runControllerLoop({
    reconciler,
    queue,
    workers: options.workers ?? 2,
    log,
    metrics: metrics.controllerLoop(NAME),
  });
  const scrape = () => metrics.registry.metrics();
  const stop = async () => {
    queue.shutDown();
    await Promise.all(workers);
  };
  return { queue, logs, scrape, stop };
}

/** Resolves once `check` holds, polling; fails the test after a second. */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 1000) throw new Error('condition not met within a second');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the controller loop', () => {
  it('reconciles each key added, and counts the successes', async () => {
    const seen: string[] = [];
    const { queue, scrape, stop } = loop({ reconcile: async (key) => void seen.push(key) });
    queue.add('ns/a');
    queue.add('ns/b');
    await until(() => seen.length === 2);
    const text = await scrape();
    await stop();
    expect(seen.sort()).toEqual(['ns/a', 'ns/b']);
    expect(sample(text, M.reconcileTotal, { controller: NAME, result: 'success' })).toBe(2);
    expect(sample(text, M.reconcileTotal, { controller: NAME, result: 'error' })).toBe(0);
    expect(sample(text, M.reconcileErrors, { controller: NAME })).toBe(0);
    expect(sample(text, `${M.reconcileTime}_count`, { controller: NAME })).toBe(2);
    expect(sample(text, M.maxConcurrentReconciles, { controller: NAME })).toBe(2);
    expect(sample(text, M.queueAdds, { name: NAME, controller: NAME })).toBe(2);
    expect(sample(text, `${M.workDuration}_count`, { name: NAME })).toBe(2);
  });

  it('retries a failed key with backoff, counts the error, and logs it with its key and stack', async () => {
    let calls = 0;
    const { queue, logs, scrape, stop } = loop({
      reconcile: async () => {
        if (++calls === 1) throw new Error('the API server said no');
      },
    });
    queue.add('ns/a');
    await until(() => calls === 2);
    const text = await scrape();
    await stop();
    expect(sample(text, M.reconcileTotal, { controller: NAME, result: 'error' })).toBe(1);
    expect(sample(text, M.reconcileTotal, { controller: NAME, result: 'success' })).toBe(1);
    expect(sample(text, M.reconcileErrors, { controller: NAME })).toBe(1);
    expect(sample(text, M.queueRetries, { name: NAME })).toBe(1);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        key: 'ns/a',
        msg: 'reconcile failed; will retry',
        err: expect.objectContaining({
          message: 'the API server said no',
          stack: expect.stringContaining('controller-loop.test.ts'),
        }),
      }),
    );
  });

  it('forgets the failures of a key once it succeeds: its next failure retries at the first delay again', async () => {
    const base = 200;
    const calls: number[] = [];
    // Fails, fails, succeeds; then, added again, fails and succeeds.
    const fails = new Set([1, 2, 4]);
    const { queue, stop } = loop(
      {
        reconcile: async () => {
          calls.push(Date.now());
          if (fails.has(calls.length)) throw new Error(`failure ${calls.length}`);
        },
      },
      { baseDelayMs: base },
    );
    queue.add('ns/a');
    await until(() => calls.length === 3);
    queue.add('ns/a');
    await until(() => calls.length === 5);
    await stop();
    // Remembered, the third failure would wait four times the first delay.
    expect(calls[4]! - calls[3]!).toBeGreaterThanOrEqual(base - 5);
    expect(calls[4]! - calls[3]!).toBeLessThan(3 * base);
  });

  it('reports the workers busy while they reconcile, and none once done', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let started = 0;
    const { queue, scrape, stop } = loop(
      {
        reconcile: async () => {
          started++;
          await held;
        },
      },
      { workers: 3 },
    );
    queue.add('ns/a');
    queue.add('ns/b');
    await until(() => started === 2);
    await new Promise((r) => setTimeout(r, 20));
    const during = await scrape();
    release();
    await stop();
    const after = await scrape();
    expect(sample(during, M.activeWorkers, { controller: NAME })).toBe(2);
    expect(sample(during, M.maxConcurrentReconciles, { controller: NAME })).toBe(3);
    expect(sample(during, M.longestRunningProcessor, { name: NAME })).toBeGreaterThanOrEqual(0.02);
    expect(sample(during, M.unfinishedWork, { name: NAME })).toBeGreaterThanOrEqual(0.04);
    expect(sample(after, M.activeWorkers, { controller: NAME })).toBe(0);
    expect(sample(after, M.unfinishedWork, { name: NAME })).toBe(0);
  });
});
