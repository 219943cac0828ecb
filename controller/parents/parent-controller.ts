import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isParentRun, listedKind } from '../api/composition.js';
import { PARENT_CONTROLLER_NAME } from '../api/metrics.js';
import { runsPath } from '../api/run.js';
import type { ControllerMetrics } from '../metrics.js';
import { ApiWriter } from '../runtime/api-writer.js';
import { runControllerLoop, type Reconciler } from '../runtime/controller-loop.js';
import type { EventRecorder } from '../runtime/event-recorder.js';
import type { Manager } from '../runtime/manager.js';
import type { SharedCache } from '../runtime/shared-informer.js';
import { WorkQueue } from '../runtime/work-queue.js';
import { objectKey, splitObjectKey } from '../runtime/object-key.js';
import { RUN_CACHE, type CachedRun } from '../runs/cached-run.js';
import { runEvent } from '../runs/run-events.js';
import { deriveStatus, isFinalStatus } from '../runs/run-status.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { notServed } from './unserved.js';

/**
 * The controller of parent runs: sweeps, DAGs and schedules (composition.ts), beside the Run
 * controller and on the same shared Run informer and lease. Each parent is its own reconciler's;
 * until those are built, a parent fails at once as NotSupported, saying which section made it one,
 * so that no run sits in created with nobody to report on it.
 */
export class ParentController implements Reconciler {
  private readonly queue: WorkQueue;
  private readonly writer: ApiWriter;
  private readonly runs: SharedCache<CachedRun>;

  constructor(
    kc: KubeConfig,
    manager: Manager,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
    private readonly recorder: EventRecorder,
  ) {
    this.queue = new WorkQueue({ metrics: metrics.workQueue(PARENT_CONTROLLER_NAME) });
    // It writes statuses only: it applies no children.
    this.writer = new ApiWriter(kc, CONTROLLER_NAME, new Map());
    // The same watch and trim as the Run controller's, so the manager gives both the one informer.
    // A parent is told from the other runs by what every cached run keeps (cached-run.ts); its
    // reconcilers to come read a parent's template whole, as the Run controller reads a summary's.
    this.runs = manager.informer(RUN_CACHE);
  }

  start(workers: number): Promise<void>[] {
    const enqueue = (run: CachedRun) => {
      if (isParentRun(run.spec) && !isFinalStatus(run.status))
        this.queue.add(objectKey(run.metadata.namespace, run.metadata.name));
    };
    this.runs.on('add', enqueue);
    this.runs.on('update', enqueue);
    const metrics = this.metrics.controllerLoop(PARENT_CONTROLLER_NAME);
    return runControllerLoop({ reconciler: this, queue: this.queue, workers, log: this.log, metrics });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    const run = this.runs.get(name, namespace);
    if (!run || !isParentRun(run.spec) || isFinalStatus(run.status)) return;
    const invalid = notServed(run);
    const status = deriveStatus(run.status, {
      now: new Date(),
      generation: run.metadata.generation ?? 0,
      pods: [],
      invalid,
      kind: listedKind(run.spec),
    });
    await this.writer.patchStatus(runsPath(namespace, name), status);
    this.log.info({ run: key, phase: status.phase, reason: status.reason }, 'phase changed');
    const event = runEvent(run, run.status, status);
    if (event) this.recorder.record(event);
  }
}
