import { setTimeout as delay } from 'node:timers/promises';
import { ApiException, type KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectionPath, NODES, PODS } from '../api/children.js';
import { LOGS_DEADLINE_SECONDS, LOGS_FINALIZER } from '../api/logs.js';
import { CONDITION, REASON } from '../api/reasons.js';
import { LOG_ARCHIVER_NAME } from '../api/metrics.js';
import { runsPath, type RunStatus } from '../api/run.js';
import { RUN_CACHE, type CachedRun } from '../runs/cached-run.js';
import { isFinalStatus } from '../runs/run-status.js';
import type { ControllerMetrics } from '../metrics.js';
import { ApiWriter } from '../runtime/api-writer.js';
import { trimPod, stripManagedFields } from '../runtime/cache-trim.js';
import { runControllerLoop, type Reconciler } from '../runtime/controller-loop.js';
import type { Manager } from '../runtime/manager.js';
import { objectKey, splitObjectKey } from '../runtime/object-key.js';
import type { SharedCache } from '../runtime/shared-informer.js';
import { WorkQueue } from '../runtime/work-queue.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import type { LogArchiveLocation } from '../../model/log-archive.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { ContainerArchive, nextRead, PENDING_LIMIT_BYTES, PendingBudget } from './container-archive.js';
import { readContainerLog } from './container-log-reader.js';
import type { LogStore } from './log-store.js';
import { nodeServesLogs } from './node-logs.js';

/** A read that failed is tried again after this, doubling up to RETRY_MAX_MS. */
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** How long after a followed stream ended the container is looked at again. */
const FOLLOW_AGAIN_MS = 250;
/** How often chunks that have waited long enough are written, whatever their size. */
const FLUSH_TICK_MS = 1_000;

/** What the archiver knows of one pod it archives. */
interface PodTask {
  readonly uid: string;
  readonly abort: AbortController;
  readonly archives: Map<string, ContainerArchive>;
  /** The containers whose loop runs now. */
  readonly running: Set<string>;
  /** What could not be archived, as the run's annotation will say. */
  readonly incomplete: string[];
}

/** Every container of a pod, init containers first, by the names its status gives. */
const containerNames = (pod: V1Pod): string[] => [
  ...(pod.status?.initContainerStatuses ?? []).map((c) => c.name),
  ...(pod.status?.containerStatuses ?? []).map((c) => c.name),
];

const statusOf = (pod: V1Pod, name: string) =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((c) => c.name === name);

/**
 * Whether a pod will run nothing more: it ended, or it is being deleted before any node took it
 * (a queued or unschedulable run that was stopped), when nothing of it ever ran.
 */
const isOver = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Succeeded' ||
  pod.status?.phase === 'Failed' ||
  (pod.metadata?.deletionTimestamp !== undefined && !pod.spec?.nodeName);

/** A bound on the log streams open at once: each holds a connection through the API server to a kubelet. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

export interface LogArchiverOptions {
  readonly location: LogArchiveLocation;
  readonly store: LogStore;
  /** Log streams open at once; a container beyond them is read from its start once one ends. */
  readonly streams: number;
}

/**
 * Archives every line every container of every run pod prints (README, Logs). Run pods carry the
 * logs finalizer from their template; for each, the archiver follows each container's log through
 * `pods/log` while it runs, writes it to the store in chunks (log-chunks.ts), reads each ended
 * instance to its end, and only then takes the finalizer off, so that a stop, a Job's TTL or a
 * deletion loses nothing. A node agent reading /var/log/pods would need hostPath and root, which
 * the platform's own policies refuse; the API server's log stream needs neither, and no token
 * goes into run pods.
 *
 * It keeps no state of its own: where a container's archive ends is read back from the store, so
 * that a restarted controller, or the next leader, resumes with no line lost or written twice.
 * Only the leader runs it, as the manager starts runnables once it leads.
 */
export class LogArchiver implements Reconciler {
  private readonly queue: WorkQueue;
  private readonly writer: ApiWriter;
  private readonly pods: SharedCache<V1Pod>;
  private readonly nodes: SharedCache<V1Node>;
  private readonly tasks = new Map<string, PodTask>();
  private readonly runs: SharedCache<CachedRun>;
  private readonly slots: Slots;
  /** What every archive holds in memory together: bounded, whatever the number of streams. */
  private readonly budget = new PendingBudget(PENDING_LIMIT_BYTES);
  private ticker: NodeJS.Timeout | undefined;
  /**
   * What could not be archived of each run (by run key), until the run has finished and its
   * status says so: the Run controller writes a run's status until then.
   */
  private readonly lost = new Map<string, { uid: string; messages: string[] }>();

  constructor(
    private readonly kc: KubeConfig,
    manager: Manager,
    private readonly options: LogArchiverOptions,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
  ) {
    this.queue = new WorkQueue({ metrics: metrics.workQueue(LOG_ARCHIVER_NAME) });
    this.writer = new ApiWriter(kc, CONTROLLER_NAME, new Map([[PODS.kind, PODS.plural]]));
    // The Run controller's caches: the manager gives every controller the one informer.
    this.pods = manager.informer<V1Pod>({
      path: collectionPath(PODS),
      labelSelector: PLINTH_LABELS.run,
      transform: trimPod,
    });
    this.nodes = manager.informer<V1Node>({ path: collectionPath(NODES), transform: stripManagedFields });
    this.runs = manager.informer(RUN_CACHE);
    this.slots = new Slots(options.streams);
  }

  start(workers: number): Promise<void>[] {
    const enqueue = (pod: V1Pod) => {
      if (pod.metadata?.finalizers?.includes(LOGS_FINALIZER)) {
        this.queue.add(objectKey(pod.metadata.namespace, pod.metadata.name));
      }
    };
    this.pods.on('add', enqueue);
    this.pods.on('update', enqueue);
    this.pods.on('delete', (pod) => this.dropTask(objectKey(pod.metadata?.namespace, pod.metadata?.name)));
    this.runs.on('update', (run) => {
      const key = objectKey(run.metadata.namespace, run.metadata.name);
      if (this.lost.has(key)) void this.reportLost(key);
    });
    this.ticker = setInterval(() => this.flushDue(), FLUSH_TICK_MS);
    const metrics = this.metrics.controllerLoop(LOG_ARCHIVER_NAME);
    return runControllerLoop({ reconciler: this, queue: this.queue, workers, log: this.log, metrics });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    clearInterval(this.ticker);
    // Streams end; what was read and not written is read again by the next leader, from the store's end.
    for (const key of [...this.tasks.keys()]) this.dropTask(key);
  }

  private dropTask(key: string): void {
    const task = this.tasks.get(key);
    task?.abort.abort();
    task?.archives.forEach((archive) => archive.discardPending());
    this.tasks.delete(key);
  }

  /** Writes every chunk that has waited long enough: a quiet run's lines reach the archive within seconds. */
  private flushDue(): void {
    const now = Date.now();
    for (const task of this.tasks.values()) {
      for (const archive of task.archives.values()) {
        if (archive.due(now)) {
          archive.flush().catch((error: unknown) => this.log.warn({ err: error }, 'a log chunk was not written yet'));
        }
      }
    }
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    const pod = this.pods.get(name, namespace);
    if (!pod?.metadata?.finalizers?.includes(LOGS_FINALIZER)) return this.dropTask(key);
    const uid = pod.metadata.uid ?? '';
    let task = this.tasks.get(key);
    if (task && task.uid !== uid) {
      this.dropTask(key);
      task = undefined;
    }
    if (!task) {
      task = { uid, abort: new AbortController(), archives: new Map(), running: new Set(), incomplete: [] };
      this.tasks.set(key, task);
    }

    // 1. Past the deadline after its deletion: what is not archived now will not be.
    const deletedAt = pod.metadata.deletionTimestamp ? new Date(pod.metadata.deletionTimestamp).getTime() : undefined;
    const deadline = deletedAt === undefined ? undefined : deletedAt + LOGS_DEADLINE_SECONDS * 1000;
    if (deadline !== undefined && Date.now() >= deadline) {
      const left = containerNames(pod).filter((c) => task.running.has(c));
      task.incomplete.push(
        `pod ${name}: ${left.length > 0 ? `containers ${left.join(', ')} were` : 'it was'} not archived to the end within ${LOGS_DEADLINE_SECONDS / 60} minutes of its deletion`,
      );
      return this.finish(key, pod, task);
    }

    // 2. A node that serves no logs (a simulated one): there is nothing to read, and the pod goes
    // once it ends or is deleted (a simulated node does not report a deleted pod's end).
    const node = pod.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    if (pod.spec?.nodeName && !nodeServesLogs(node)) {
      if (isOver(pod) || deletedAt !== undefined) await this.finish(key, pod, task);
      return;
    }

    // 3. Every container with something to read gets its loop, which ends once it has caught up.
    for (const container of containerNames(pod)) {
      if (task.running.has(container)) continue;
      const archive = task.archives.get(container);
      const next = nextRead(statusOf(pod, container), archive?.attempt ?? 0, archive?.attemptDone ?? false);
      if (next.kind === 'caught-up') continue;
      task.running.add(container);
      void this.archiveContainer(key, pod, container, task);
    }

    // 4. Once the pod has ended and every container is archived to its end, the pod may go.
    if (isOver(pod) && task.running.size === 0) return this.finish(key, pod, task);
    if (deadline !== undefined) this.queue.addAfter(key, deadline - Date.now());
  }

  /** One container's loop: reads each instance in turn, from where its archive ends, until caught up. */
  private async archiveContainer(key: string, first: V1Pod, container: string, task: PodTask): Promise<void> {
    const { namespace = '', name = '' } = first.metadata ?? {};
    const labels = first.metadata?.labels ?? {};
    let failures = 0;
    try {
      let archive = task.archives.get(container);
      if (!archive) {
        archive = new ContainerArchive(
          this.options.store,
          {
            prefix: this.options.location.prefix,
            team: labels[PLINTH_LABELS.team] ?? '',
            runUid: labels[PLINTH_LABELS.runUid] ?? '',
            pod: name,
            container,
          },
          this.budget,
        );
        await archive.load();
        task.archives.set(container, archive);
      }
      while (!task.abort.signal.aborted) {
        const pod = this.pods.get(name, namespace);
        if (!pod || pod.metadata?.uid !== task.uid) return;
        const next = nextRead(statusOf(pod, container), archive.attempt, archive.attemptDone);
        if (next.kind === 'caught-up') return;
        if (next.kind === 'lost') {
          task.incomplete.push(
            `pod ${name}, container ${container}: instance(s) ${next.attempts.join(', ')} ended before they could be archived`,
          );
          archive.startAttempt(next.next);
          continue;
        }
        if (next.attempt !== archive.attempt) archive.startAttempt(next.attempt);
        await this.slots.acquire();
        try {
          const read = await archive.readFor({
            namespace,
            pod: name,
            container,
            previous: next.previous,
            follow: next.follow,
          });
          await readContainerLog(this.kc, read, (lines) => archive.add(lines), task.abort.signal);
          await archive.flush();
          // Read to its end without following: the instance had ended, so this is all of it. A
          // followed stream that ends may have dropped: the loop looks at the container again.
          if (!next.follow) archive.attemptDone = true;
          // A stream that ended at the container's exit is looked at again once the cache has the exit,
          // not in a loop of requests meanwhile.
          else await delay(FOLLOW_AGAIN_MS, undefined, { signal: task.abort.signal }).catch(() => undefined);
          failures = 0;
        } catch (error) {
          archive.discardPending();
          if (task.abort.signal.aborted) return;
          if (error instanceof ApiException && error.code === 404) return;
          if (next.previous && error instanceof ApiException && error.code === 400) {
            // The kubelet no longer has the instance (it restarted again meanwhile).
            task.incomplete.push(`pod ${name}, container ${container}: instance ${next.attempt} was no longer kept`);
            archive.attemptDone = true;
            continue;
          }
          failures += 1;
          const wait = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
          this.log.warn({ err: error, pod: key, container, retryInMs: wait }, 'reading a log failed; resuming later');
          await delay(wait, undefined, { signal: task.abort.signal }).catch(() => undefined);
        } finally {
          this.slots.release();
        }
      }
    } catch (error) {
      this.log.warn({ err: error, pod: key, container }, 'archiving a log failed; trying again');
      await delay(RETRY_BASE_MS, undefined, { signal: task.abort.signal }).catch(() => undefined);
    } finally {
      task.running.delete(container);
      if (!task.abort.signal.aborted) this.queue.add(key);
    }
  }

  /** Takes the finalizer off, the pod may go, then says on its run what was lost. */
  private async finish(key: string, pod: V1Pod, task: PodTask): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    const index = pod.metadata?.finalizers?.indexOf(LOGS_FINALIZER) ?? -1;
    try {
      // Only if the finalizer is still where the cache saw it; otherwise the pod's update brings it back here.
      await this.writer.jsonPatch({ apiVersion: 'v1', kind: PODS.kind, metadata: { name, namespace } }, [
        { op: 'test', path: `/metadata/finalizers/${index}`, value: LOGS_FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${index}` },
      ]);
    } catch (error) {
      if (error instanceof ApiException && (error.code === 404 || error.code === 422)) return;
      throw error;
    }
    const lines = [...task.archives.values()].reduce((n, a) => n + a.written, 0);
    this.log.info({ pod: key, lines, incomplete: task.incomplete }, "archived a pod's logs");
    this.metrics.logLinesArchived.inc(lines);
    this.dropTask(key);
    const run = pod.metadata?.labels?.[PLINTH_LABELS.run];
    const runUid = pod.metadata?.labels?.[PLINTH_LABELS.runUid];
    if (task.incomplete.length > 0 && run && runUid) {
      const runKey = objectKey(namespace, run);
      const lost = this.lost.get(runKey);
      if (lost?.uid === runUid) lost.messages.push(...task.incomplete);
      else this.lost.set(runKey, { uid: runUid, messages: [...task.incomplete] });
      await this.reportLost(runKey);
    }
  }

  /**
   * The condition LogsComplete=False on a finished run, with what was lost. Only once the run has
   * finished: the Run controller writes no status after that, and keeps this condition before it.
   * Held in memory until then; a controller that restarts meanwhile does not say it.
   */
  private async reportLost(runKey: string): Promise<void> {
    const lost = this.lost.get(runKey);
    const { namespace, name } = splitObjectKey(runKey);
    const run = this.runs.get(name, namespace);
    if (!lost || !run || run.metadata.uid !== lost.uid) {
      if (!run || run.metadata.uid !== lost?.uid) this.lost.delete(runKey);
      return;
    }
    if (!isFinalStatus(run.status)) return;
    this.lost.delete(runKey);
    const others = (run.status?.conditions ?? []).filter((c) => c.type !== CONDITION.LogsComplete);
    const conditions: NonNullable<RunStatus['conditions']> = [
      ...others,
      {
        type: CONDITION.LogsComplete,
        status: 'False',
        reason: REASON.LogsIncomplete,
        message: lost.messages.join('; '),
        lastTransitionTime: new Date().toISOString(),
      },
    ];
    await this.writer.patchStatus(runsPath(namespace, name), { conditions }).catch((error: unknown) => {
      this.log.warn({ err: error, run: runKey }, 'the run could not be told its logs are incomplete');
    });
  }
}
