import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { RUNS } from '../api/children.js';
import { RETENTION_CONTROLLER_NAME } from '../api/metrics.js';
import { REASON } from '../api/reasons.js';
import { RUN_API_VERSION, RUN_KIND } from '../api/run.js';
import type { ControllerMetrics } from '../metrics.js';
import { ApiWriter } from '../runtime/api-writer.js';
import { runControllerLoop, type Reconciler } from '../runtime/controller-loop.js';
import type { EventRecorder } from '../runtime/event-recorder.js';
import type { Manager } from '../runtime/manager.js';
import { objectKey, splitObjectKey } from '../runtime/object-key.js';
import type { SharedCache } from '../runtime/shared-informer.js';
import { WorkQueue } from '../runtime/work-queue.js';
import { durationSeconds } from '../../model/config/duration.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { RUN_CACHE, type CachedRun } from '../runs/cached-run.js';
import { retentionDecision } from './run-retention.js';

/**
 * Deletes top-level runs that finished longer ago than the platform's retention (runs.retention),
 * so that no team stores Runs without bound; what a run owns goes with it (run-retention.ts).
 *
 * A timer per finished run rather than a periodic sweep: the shared Run informer hands over every
 * run when it lists and again on each change, so the collector learns each run's due time once and
 * asks the queue for the run then (WorkQueue.addAfter). A run goes at about finishedAt + retention
 * and nothing scans every run, where a sweep must choose between scanning often and deleting late.
 * The timers go with the queue when the leader stops; the next leader's informer lists every run
 * and sets them again. Only the leader runs it, as the manager starts runnables once it leads.
 */
export class RunCollector implements Reconciler {
  private readonly queue: WorkQueue;
  private readonly writer: ApiWriter;
  private readonly runs: SharedCache<CachedRun>;
  private readonly retentionMs: number;

  constructor(
    kc: KubeConfig,
    manager: Manager,
    private readonly retention: string,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
    private readonly recorder: EventRecorder,
  ) {
    this.retentionMs = durationSeconds(retention) * 1000;
    this.queue = new WorkQueue({ metrics: metrics.workQueue(RETENTION_CONTROLLER_NAME) });
    this.writer = new ApiWriter(kc, CONTROLLER_NAME, new Map([[RUNS.kind, RUNS.plural]]));
    // The Run controller's own cache: the manager gives every controller the one informer.
    this.runs = manager.informer(RUN_CACHE);
  }

  start(workers: number): Promise<void>[] {
    const enqueue = (run: CachedRun) => {
      if (retentionDecision(run, this.retentionMs, Date.now()).kind !== 'keep')
        this.queue.add(objectKey(run.metadata.namespace, run.metadata.name));
    };
    this.runs.on('add', enqueue);
    this.runs.on('update', enqueue);
    const metrics = this.metrics.controllerLoop(RETENTION_CONTROLLER_NAME);
    return runControllerLoop({ reconciler: this, queue: this.queue, workers, log: this.log, metrics });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    const run = this.runs.get(name, namespace);
    if (!run) return;
    const decision = retentionDecision(run, this.retentionMs, Date.now());
    if (decision.kind === 'wait') this.queue.addAfter(key, decision.ms);
    if (decision.kind !== 'delete') return;
    const { uid = '', resourceVersion } = run.metadata as { uid?: string; resourceVersion?: string };
    try {
      // Only the run the decision was taken on: a run re-created under its name, or changed since
      // the cache saw it, refuses. Its own add or update brings it back here.
      const deleted = await this.writer.delete(
        { apiVersion: RUN_API_VERSION, kind: RUN_KIND, metadata: { name, namespace } },
        { uid, resourceVersion },
      );
      if (!deleted) return;
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) {
        this.log.info({ run: key, uid }, 'not deleting the run: it changed or was re-created since');
        return;
      }
      throw error;
    }
    const finishedAt = run.status?.finishedAt;
    this.log.info({ run: key, uid, finishedAt, retention: this.retention }, 'deleted a run past its retention');
    this.metrics.runsDeletedByRetention.inc({ namespace });
    this.recorder.record({
      regarding: { apiVersion: RUN_API_VERSION, kind: RUN_KIND, name, namespace, uid },
      type: 'Normal',
      reason: REASON.RetentionExpired,
      action: 'Deleted',
      note: `finished at ${finishedAt}, more than runs.retention (${this.retention}) ago: deleted with everything it owns`,
    });
  }
}
