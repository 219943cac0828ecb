import type { PodEvents } from './diagnosis.js';
import { createHash } from 'node:crypto';
import {
  ApiException,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PLINTH_LABELS } from '../../model/labels.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { ApiReader } from '../runtime/api-reader.js';
import { ApiWriter } from '../runtime/api-writer.js';
import type { EventRecorder } from '../runtime/event-recorder.js';
import { LatestEvents } from '../runtime/latest-events.js';
import { stripManagedFields, trimDeployment, trimJob, trimPod } from '../runtime/cache-trim.js';
import {
  CHILD_PLURALS,
  DEPLOYMENTS,
  EVENTS,
  JOBS,
  NODES,
  PODS,
  RUN_CHILDREN,
  collectionPath,
  type ManagedResource,
} from '../api/children.js';
import { RUN_CONTROLLER_NAME } from '../api/metrics.js';
import type { PlatformDefaults } from '../api/platform-defaults.js';
import { runsPath, type Run, type RunStatus } from '../api/run.js';
import { isLeafRun, listedKind, type LeafRun } from '../api/composition.js';
import { CACHED, RUN_CACHE, type CachedLeafRun, type CachedRun, type LeafRunSummary } from './cached-run.js';
import type { ControllerMetrics } from '../metrics.js';
import { kindOf } from './kinds/registry.js';
import type { KindContext, RunKind, WorkloadState } from './kinds/run-kind.js';
import { childName } from './pod-template.js';
import { runEvent } from './run-events.js';
import { deriveStatus, isFinalStatus, type Observation } from './run-status.js';
import { effectivePool } from './effective-pool.js';
import { invalidity, RunRefusal, workloadRefusal } from './run-validity.js';
import { isInvalidity, outputsSource, type RunLookup } from './outputs-source.js';
import { StatusPacer } from './status-pacing.js';
import { TeamAdmission } from './team-admission.js';
import type { Transform } from '../runtime/streaming-watch.js';
import type { Manager } from '../runtime/manager.js';
import type { SharedCache } from '../runtime/shared-informer.js';
import { runControllerLoop, type Reconciler } from '../runtime/controller-loop.js';
import { WorkQueue } from '../runtime/work-queue.js';
import { objectKey, splitObjectKey } from '../runtime/object-key.js';
import { CONDITION } from '../api/reasons.js';
import type { TrackingGate } from '../tracking/run-tracker.js';

const SPEC_HASH_ANNOTATION = 'plinth.dev/spec-hash';
/** As controller-runtime's SyncPeriod: how often every unfinished run is reconciled again. */
export const RESYNC_MS = 60_000;
/** The events that explain a podless Job: the Job controller could not create its pod. */
const FAILED_CREATE_EVENTS = 'involvedObject.kind=Job,reason=FailedCreate';
/** The events that explain a pod stuck starting: the kubelet cannot mount a volume (a missing Secret). */
const MOUNT_FAILURE_EVENTS = 'involvedObject.kind=Pod,reason=FailedMount';
/** The cluster autoscaler's events on pods, where one runs: whether it adds a node for a pending pod. */
const AUTOSCALER_EVENTS = 'involvedObject.kind=Pod,source=cluster-autoscaler';
/** Phases in which a run waits for something; the pending-too-long alert watches their age. */
const PENDING_PHASES = new Set(['created', 'queued', 'unschedulable', 'scheduled']);

/** What each child cache keeps (cache-trim.ts): the controller never reads a template back. */
const CHILD_TRIMS: Readonly<Record<string, Transform<KubernetesObject>>> = {
  [JOBS.kind]: trimJob as Transform<KubernetesObject>,
  [DEPLOYMENTS.kind]: trimDeployment as Transform<KubernetesObject>,
};

/** Per-run state is kept by uid: a run re-created under the same name starts afresh. */
const uidOf = (run: Pick<CachedRun, 'metadata'>) => String(run.metadata.uid);

/** What a run's children were last built from, for a run whose cache keeps a summary. */
interface Applied {
  readonly generation: number | undefined;
  readonly pool: string;
  /** The hash of every child's spec, and which children there were. */
  readonly hash: string;
  readonly kinds: readonly string[];
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof ApiException && error.code === 404)) throw error;
}

/**
 * Reconciles Runs into Jobs, or Deployments and Services, controller-runtime style: informers feed
 * a rate-limited queue of run keys; each reconcile reads the caches, admits the run against its
 * team's quota, applies the desired children with server-side apply, and writes the status.
 */
export class RunController implements Reconciler {
  readonly queue: WorkQueue;
  private readonly admission = new TeamAdmission();
  private readonly runs: SharedCache<CachedRun>;
  /** The caches of every child kind (api/children.ts), by kind. */
  private readonly children = new Map<string, SharedCache<KubernetesObject>>();
  private readonly pods: SharedCache<V1Pod>;
  private readonly nodes: SharedCache<V1Node>;
  private readonly failedCreates: SharedCache<CoreV1Event>;
  private readonly mountFailures: SharedCache<CoreV1Event>;
  private readonly autoscalerEvents: SharedCache<CoreV1Event>;
  private readonly writer: ApiWriter;
  /** Reads a run whole, where its cache keeps a summary and its workload is to be built. */
  private readonly reader: ApiReader;
  private synced = false;
  /** The status last written for each run, by uid. */
  private readonly written = new Map<string, RunStatus>();
  private readonly pacer = new StatusPacer();
  /** The latest FailedCreate event of each Job, and FailedMount and autoscaler event of each pod. */
  private readonly failedCreateByJob = new LatestEvents('the Job controller could not create a pod');
  private readonly mountFailureByPod = new LatestEvents('a volume cannot be mounted');
  private readonly autoscalerByPod = new LatestEvents('no message');
  private readonly podEventsOf = (pod: V1Pod): PodEvents => {
    const key = objectKey(pod.metadata?.namespace, pod.metadata?.name);
    return { mountFailure: this.mountFailureByPod.get(key), autoscaler: this.autoscalerByPod.latest(key) };
  };
  /**
   * By namespace, the runs that hold or want capacity (neither finished nor stopped): admission
   * reads these, not every run the team ever made.
   */
  private readonly activeByNamespace = new Map<string, Map<string, LeafRunSummary>>();
  /**
   * By uid, for the runs whose cache keeps a summary: what their children were last built from.
   * Their desired children are known only from the whole run, which costs a GET; a reconcile that
   * finds the children built for the run's generation and pool, as the hash says, needs none.
   */
  private readonly applied = new Map<string, Applied>();
  /** Pods by run key: reconciles read a run's pods without scanning every pod. */
  private readonly podsByRun = new Map<string, Map<string, V1Pod>>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    kc: KubeConfig,
    /** Whose shared informers the controller reads; the manager starts and stops them. */
    private readonly manager: Manager,
    private readonly defaults: PlatformDefaults,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
    /** Tells each run's story in Events, which `kubectl describe run` shows. */
    private readonly recorder: EventRecorder,
    private readonly resyncMs = RESYNC_MS,
    /** Makes each run's MLflow run before its workload (controller/tracking/); none where nothing is tracked. */
    private readonly tracking?: TrackingGate,
  ) {
    this.queue = new WorkQueue({ metrics: metrics.workQueue(RUN_CONTROLLER_NAME) });
    this.writer = new ApiWriter(kc, CONTROLLER_NAME, CHILD_PLURALS);
    this.reader = new ApiReader(kc);
    this.runs = manager.informer(RUN_CACHE);
    // A run's children and pods carry its label; each cache keeps only what the controller reads
    // back (cache-trim.ts). Every child is watched, so that one deleted by hand is made again.
    // Those watched from first use start with the first run of a kind that makes them (kindCaches).
    const ofRuns = <T extends KubernetesObject>(resource: ManagedResource, transform: Transform<T>) =>
      manager.informer<T>(
        { path: collectionPath(resource), labelSelector: PLINTH_LABELS.run, transform },
        { lazy: resource.watchFrom === 'first-use' },
      );
    for (const resource of RUN_CHILDREN) {
      this.children.set(resource.kind, ofRuns(resource, CHILD_TRIMS[resource.kind] ?? stripManagedFields));
    }
    this.pods = ofRuns(PODS, trimPod);
    this.nodes = manager.informer<V1Node>({ path: collectionPath(NODES), transform: stripManagedFields });
    // Watched rather than listed per run: one cheap stream each, and a diagnosis as soon as it happens.
    const events = (fieldSelector: string) =>
      manager.informer<CoreV1Event>({ path: collectionPath(EVENTS), fieldSelector, transform: stripManagedFields });
    this.failedCreates = events(FAILED_CREATE_EVENTS);
    this.mountFailures = events(MOUNT_FAILURE_EVENTS);
    this.autoscalerEvents = events(AUTOSCALER_EVENTS);
  }

  /** Runs by name or uid, from the cache: for the earlier run a run resumes or copies. */
  private readonly runLookup: RunLookup = {
    byName: (namespace, name) => {
      const uid = this.runs.get(name, namespace)?.metadata.uid;
      return uid ? { uid } : undefined;
    },
    byUid: (uid) => {
      const found = this.runs.list().find((r) => r.metadata.uid === uid);
      return found ? { namespace: found.metadata.namespace ?? '', name: found.metadata.name } : undefined;
    },
  };

  /** The newest status of a run: what this controller last wrote, or the cache's if it knows none. */
  private statusOf(run: Pick<CachedRun, 'metadata' | 'status'>): RunStatus | undefined {
    return this.written.get(uidOf(run)) ?? run.status;
  }

  /**
   * Final by the newest status: a run just written as done is not re-admitted while the cache
   * catches up. A run the cache keeps as settled is final by the status it was trimmed for.
   */
  private isFinal(run: CachedRun | LeafRunSummary): boolean {
    return run[CACHED] === 'settled' || isFinalStatus(this.statusOf(run));
  }

  /** The cache of a child kind. */
  private childCache(resource: ManagedResource): SharedCache<KubernetesObject> {
    const cache = this.children.get(resource.kind);
    if (!cache) throw new Error(`no cache of ${resource.kind}: add it to RUN_CHILDREN`);
    return cache;
  }

  /** The caches of what runs are made of: their children and pods, each labelled with its run. */
  private ofRunCaches(): SharedCache<KubernetesObject>[] {
    return [...this.children.values(), this.pods] as SharedCache<KubernetesObject>[];
  }

  /**
   * The caches of a kind's children, synced. Those watched from first use start with the first run
   * of a kind that makes them: a platform that runs only jobs holds no watches on Services or
   * Ingresses. With those watches open, the benchmark's job runs went slower, for reasons not yet
   * understood (see the README's benchmark notes).
   */
  private async kindCaches(kind: RunKind): Promise<void> {
    await Promise.all(
      kind.children.filter((r) => r.watchFrom === 'first-use').map((r) => this.manager.waitForSync(this.childCache(r))),
    );
  }

  async start(workers: number): Promise<Promise<void>[]> {
    const enqueueRun = (run: CachedRun) => this.queue.add(objectKey(run.metadata.namespace, run.metadata.name));
    // Parent runs (dags, sweeps, schedules) are their own reconcilers' (composition.ts): this one
    // makes the pods of leaf runs, those parents' children included.
    const arrive = (run: CachedRun) => {
      if (!isLeafRun(run)) return;
      this.trackActive(run);
      this.pacer.arrived(uidOf(run), Date.now());
      // Runs of the initial list are ordered by noteExisting once the cache is synced.
      if (this.synced) this.admission.noteArrival(run);
      // A new run's first reconcile creates its workload: it goes before status follow-ups.
      this.queue.add(objectKey(run.metadata.namespace, run.metadata.name), this.synced);
    };
    const enqueueOwner = (child: KubernetesObject) => {
      const run = child.metadata?.labels?.[PLINTH_LABELS.run];
      if (run) this.queue.add(objectKey(child.metadata?.namespace, run));
    };
    const indexPod = (pod: V1Pod) => {
      const key = objectKey(pod.metadata?.namespace, pod.metadata?.labels?.[PLINTH_LABELS.run]);
      const pods = this.podsByRun.get(key) ?? new Map<string, V1Pod>();
      pods.set(pod.metadata?.name ?? '', pod);
      this.podsByRun.set(key, pods);
    };
    this.pods.on('add', indexPod);
    this.pods.on('update', indexPod);
    this.pods.on('delete', (pod) => {
      const key = objectKey(pod.metadata?.namespace, pod.metadata?.labels?.[PLINTH_LABELS.run]);
      this.podsByRun.get(key)?.delete(pod.metadata?.name ?? '');
      if (this.podsByRun.get(key)?.size === 0) this.podsByRun.delete(key);
      this.mountFailureByPod.forget(objectKey(pod.metadata?.namespace, pod.metadata?.name));
      this.autoscalerByPod.forget(objectKey(pod.metadata?.namespace, pod.metadata?.name));
    });
    this.runs.on('add', arrive);
    this.runs.on('update', (run) => {
      if (!isLeafRun(run)) return;
      this.trackActive(run);
      // This controller's own status writes come back as updates: only a new generation is news.
      const written = this.written.get(uidOf(run));
      if (written?.observedGeneration === undefined || written.observedGeneration !== run.metadata.generation) {
        enqueueRun(run);
      }
    });
    this.runs.on('delete', (run) => {
      if (!isLeafRun(run)) return;
      this.dropActive(run);
      this.admission.forget(run);
      this.applied.delete(uidOf(run));
      this.written.delete(uidOf(run));
      this.pacer.forget(uidOf(run));
      this.recorder.forget(uidOf(run));
      this.failedCreateByJob.forget(objectKey(run.metadata.namespace, childName(run)));
      this.enqueueWaiting(run.metadata.namespace ?? '');
    });
    for (const informer of this.ofRunCaches()) {
      informer.on('add', enqueueOwner);
      informer.on('update', enqueueOwner);
      informer.on('delete', enqueueOwner);
    }
    const noteFailedCreate = (event: CoreV1Event) => {
      // Write conflicts on the quota are retried by the Job controller; they explain nothing.
      if (event.message?.includes('the object has been modified')) return;
      // Only runs' Jobs are cached; the events of every other Job in the cluster are no concern.
      if (!this.childCache(JOBS).get(event.involvedObject.name ?? '', event.involvedObject.namespace)) return;
      const job = this.failedCreateByJob.note(event);
      // The Job is named after its run.
      if (job) this.queue.add(job);
    };
    this.failedCreates.on('add', noteFailedCreate);
    this.failedCreates.on('update', noteFailedCreate);
    const noteMountFailure = (event: CoreV1Event) => {
      // Only runs' pods are cached; the events of every other pod in the cluster are no concern.
      const pod = this.pods.get(event.involvedObject.name ?? '', event.involvedObject.namespace);
      if (pod && this.mountFailureByPod.note(event)) enqueueOwner(pod);
    };
    this.mountFailures.on('add', noteMountFailure);
    this.mountFailures.on('update', noteMountFailure);
    const noteAutoscaler = (event: CoreV1Event) => {
      const pod = this.pods.get(event.involvedObject.name ?? '', event.involvedObject.namespace);
      if (pod && this.autoscalerByPod.note(event)) enqueueOwner(pod);
    };
    this.autoscalerEvents.on('add', noteAutoscaler);
    this.autoscalerEvents.on('update', noteAutoscaler);
    // The manager starts this controller once every cache has listed: the handlers above have heard
    // every cached object as added.
    this.rebuildAdmissions();
    this.synced = true;
    this.log.info({ runs: this.runs.list().length }, 'caches synced');

    // A finished run is settled for good, and they pile up by the thousand: resyncing them would
    // only confirm it, while the runs that still wait queue behind.
    const resync = () =>
      this.runs.list().forEach((run) => {
        if (isLeafRun(run) && !this.isFinal(run)) enqueueRun(run);
      });
    this.timers.push(setInterval(resync, this.resyncMs));
    this.timers.push(setInterval(() => this.observeMetrics(), 5000));
    const metrics = this.metrics.controllerLoop(RUN_CONTROLLER_NAME);
    return runControllerLoop({ reconciler: this, queue: this.queue, workers, log: this.log, metrics });
  }

  /** Stops taking work; in-flight reconciles finish. */
  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    this.queue.shutDown();
  }

  /** After a restart: runs whose workloads exist, or that were marked admitted, keep their place. */
  private rebuildAdmissions(): void {
    const runs = this.runs.list().filter(isLeafRun);
    this.admission.noteExisting(runs);
    for (const run of runs) {
      if (run[CACHED] === 'settled' || this.isFinal(run) || run.spec.stopped) {
        this.admission.release(run);
        continue;
      }
      const ns = run.metadata.namespace;
      const name = childName(run);
      const admitted = run.status?.conditions?.some((c) => c.type === CONDITION.Admitted && c.status === 'True');
      // A kind's primary child is made only once the run is admitted.
      const [primary] = kindOf(run.spec.kind).children;
      if (admitted || this.childCache(primary).get(name, ns)) this.admission.markAdmitted(run);
    }
  }

  /** After capacity frees: the runs at the head of the namespace's queue. */
  private enqueueWaiting(namespace: string): void {
    const team = this.defaults.teams[namespace];
    if (!team || !this.admission.hasWaiting(namespace)) return;
    for (const run of this.admission.queueHead(this.activeRuns(namespace), team)) {
      this.queue.add(objectKey(namespace, run.metadata.name));
    }
  }

  /** Runs of a namespace that hold or want capacity. */
  private activeRuns(namespace: string): LeafRunSummary[] {
    return [...(this.activeByNamespace.get(namespace)?.values() ?? [])];
  }

  /** Keeps a run's entry in activeByNamespace up to date with the newest object the cache has. */
  private trackActive(run: CachedLeafRun): void {
    if (run[CACHED] === 'settled' || this.isFinal(run) || run.spec.stopped) return this.dropActive(run);
    const runs = this.activeByNamespace.get(run.metadata.namespace ?? '') ?? new Map<string, LeafRunSummary>();
    this.activeByNamespace.set(run.metadata.namespace ?? '', runs.set(uidOf(run), run));
  }

  private dropActive(run: Pick<CachedRun, 'metadata'>): void {
    this.activeByNamespace.get(run.metadata.namespace ?? '')?.delete(uidOf(run));
  }

  /**
   * One run, in numbered steps, each of which may end the reconcile: the same for every run kind,
   * whose own part is what it wants (step 5) and how that reads back (step 6).
   */
  async reconcile(key: string): Promise<void> {
    // 1. A deleted run's children go with it (ownerReferences); a finished one frees what it held.
    const { namespace, name } = splitObjectKey(key);
    const run = this.runs.get(name, namespace);
    if (!run || !isLeafRun(run)) return;
    if (run[CACHED] === 'settled' || this.isFinal(run)) return this.release(run);

    const team = this.defaults.teams[namespace];
    const kind = kindOf(run.spec.kind);
    // A kind whose children are made once keeps the pool they were made for, whatever the team's
    // default pool has become since.
    const madeOnce = kind.updates === 'never' ? this.statusOf(run)?.pool : undefined;
    const observation = {
      now: new Date(),
      generation: run.metadata.generation ?? 0,
      pods: this.podsOf(run),
      nodes: this.nodes.list(),
      podEventsOf: this.podEventsOf,
      pool: madeOnce ?? (team && effectivePool(run, team).pool),
      kind: listedKind(run.spec),
    };
    // 2. A run that can never start as written fails, saying why.
    const invalid = invalidity(run, team, this.defaults);
    if (invalid || !team) {
      this.settle(run, await this.writeStatus(run, { ...observation, invalid }));
      return;
    }

    // 3. A stopped run's children are deleted; it is stopped once no pod is left.
    if (run.spec.stopped) {
      await this.deleteChildren(run, kind);
      const podsLeft = observation.pods.length;
      await this.writeStatus(run, { ...observation, stopping: { podsLeft } });
      if (podsLeft === 0) this.release(run);
      return;
    }

    // 4. A run waits in its team's queue until it fits in the team's quotas.
    // A run that grew past what it was admitted for keeps its workload as it is meanwhile.
    const decision = this.admission.decide(run, () => this.activeRuns(namespace), team);
    // The validity check of step 2 found the pool.
    const context: KindContext = { defaults: this.defaults, team, pool: observation.pool ?? '' };
    if (decision.admitted && decision.freed) this.enqueueWaiting(namespace);
    if (!decision.admitted) {
      const { message, impossible, holding } = decision;
      const workload = holding
        ? this.observe(run, kind, await this.cachedChildren(run, kind), observation, context)
        : undefined;
      this.settle(run, await this.writeStatus(run, { ...observation, waiting: { message, impossible }, workload }));
      return;
    }

    // 5. Its MLflow run is made before its workload, so that its containers are told its id. A
    //    tracking server that has not answered within tracking.waitSeconds is not waited for.
    const tracking = this.tracking?.decide(run, this.statusOf(run), observation.now.getTime());
    if (tracking && 'waitMs' in tracking && !(await this.cachedChildren(run, kind)).has(kind.children[0].kind)) {
      this.queue.addAfter(key, tracking.waitMs);
      await this.writeStatus(run, observation);
      return;
    }
    // What the status says of it: nothing while it is still waited for, as where the workload was
    // made before (by a controller that restarted since, say).
    const tracked = tracking && !('waitMs' in tracking) ? tracking : undefined;

    // 6. Its kind's children are applied; one the API server refuses fails the run.
    let children: Map<string, KubernetesObject>;
    try {
      const linked = tracked && 'linked' in tracked ? tracked.linked : undefined;
      children = await this.ensureChildren(run, kind, { ...context, tracking: linked });
    } catch (error) {
      // A child the API server refuses for what it says would be refused on every retry: the run
      // fails at once, with the server's message naming the field. Other failures are retried.
      const refused = workloadRefusal(error);
      if (!refused) throw error;
      this.settle(run, await this.writeStatus(run, { ...observation, invalid: refused }));
      return;
    }
    // 7. Its kind reads how the children and pods are doing, and the status says so.
    const workload = this.observe(run, kind, children, observation, context);
    this.settle(run, await this.writeStatus(run, { ...observation, workload, tracking: tracked }));
  }

  /** How the run's workload is doing, as its kind reads its children and the pods and nodes observed. */
  private observe(
    run: LeafRunSummary,
    kind: RunKind,
    children: Map<string, KubernetesObject>,
    observed: Pick<Observation, 'pods'> & { readonly nodes: readonly V1Node[] },
    context: KindContext,
  ): WorkloadState {
    const key = objectKey(run.metadata.namespace ?? '', run.metadata.name);
    return kind.observe(
      run,
      {
        children,
        pods: observed.pods,
        nodes: observed.nodes,
        podEventsOf: this.podEventsOf,
        failedCreate: this.failedCreateByJob.get(key),
      },
      context,
    );
  }

  /** A run written as final releases what it held, or its place in the queue. */
  private settle(run: LeafRunSummary, status: RunStatus | undefined): void {
    if (isFinalStatus(status)) this.release(run);
  }

  private podsOf(run: Pick<CachedRun, 'metadata'>): V1Pod[] {
    return [...(this.podsByRun.get(objectKey(run.metadata.namespace, run.metadata.name))?.values() ?? [])];
  }

  /** A run that no longer holds or wants capacity; what it held goes to the head of the queue. */
  private release(run: Pick<CachedRun, 'metadata'>): void {
    this.applied.delete(uidOf(run));
    if (this.admission.release(run)) this.enqueueWaiting(run.metadata.namespace ?? '');
  }

  /**
   * The whole run, for building its workload: the cached object where the cache keeps its whole
   * spec, else the API server's (a GET), or undefined if the run is gone or is another by now.
   */
  private async wholeRun(run: LeafRunSummary): Promise<LeafRun | undefined> {
    // Only a summary lacks fields: a run read whole is whole, and so is one the cache kept whole.
    if (run[CACHED] !== 'summary') return run as unknown as LeafRun;
    const whole = await this.reader.get<Run>(runsPath(run.metadata.namespace ?? '', run.metadata.name));
    return whole && whole.metadata.uid === run.metadata.uid && isLeafRun(whole) ? whole : undefined;
  }

  /**
   * Applies the children the run's kind wants, and returns them as the caches hold them (or as
   * applied, before the caches hear of them). A kind whose children never change (a Job's pod
   * template is immutable) has them made once. Otherwise the primary child goes last and carries
   * the hash of every child's spec, so a reconcile cut short finds the old hash and applies them
   * all again, as it does when a child has gone missing; a child no longer wanted is deleted.
   */
  /** The run's children as the caches hold them, by kind. */
  private async cachedChildren(run: LeafRunSummary, kind: RunKind): Promise<Map<string, KubernetesObject>> {
    await this.kindCaches(kind);
    const name = childName(run);
    const namespace = run.metadata.namespace ?? '';
    const cached = new Map<string, KubernetesObject>();
    for (const resource of kind.children) {
      const child = this.childCache(resource).get(name, namespace);
      if (child) cached.set(resource.kind, child);
    }
    return cached;
  }

  private async ensureChildren(
    run: LeafRunSummary,
    kind: RunKind,
    context: KindContext,
  ): Promise<Map<string, KubernetesObject>> {
    const cached = await this.cachedChildren(run, kind);
    const [primary] = kind.children;
    if (kind.updates === 'never' && cached.has(primary.kind)) return cached;
    const hashOnPrimary = cached.get(primary.kind)?.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
    const uid = uidOf(run);
    const last = this.applied.get(uid);
    const completeFor = (kinds: readonly string[]) =>
      kind.children.every((r) => cached.has(r.kind) === kinds.includes(r.kind));
    if (
      last &&
      last.generation === run.metadata.generation &&
      last.pool === context.pool &&
      last.hash === hashOnPrimary &&
      completeFor(last.kinds)
    ) {
      return cached;
    }

    const whole = await this.wholeRun(run);
    // Gone, or re-created under its name: its own events bring the next reconcile.
    if (!whole) return cached;
    // The earlier run whose outputs it starts with, resolved now. A service made already keeps what
    // it was made with, though that run has gone since.
    const source = outputsSource(whole, context.team, this.defaults, this.runLookup);
    if (isInvalidity(source)) {
      if (cached.has(primary.kind)) return cached;
      throw new RunRefusal(source);
    }
    const desired = kind.desired(whole, { ...context, outputsSource: source });
    const [main, ...others] = desired;
    if (!main || main.kind !== primary.kind) throw new Error(`kind ${kind.name} must want its ${primary.kind} first`);
    const hash = createHash('sha256')
      .update(JSON.stringify(desired.map((o) => (o as { spec?: unknown }).spec ?? null)))
      .digest('hex')
      .slice(0, 16);
    const kinds = desired.map((o) => o.kind ?? '');
    if (run[CACHED] === 'summary') {
      // The children are built from the whole run's generation, which may be newer than the cache's.
      this.applied.set(uid, { generation: whole.metadata.generation, pool: context.pool, hash, kinds });
    }
    if (completeFor(kinds) && hashOnPrimary === hash) return cached;

    for (const child of others) await this.writer.apply(child);
    for (const [childKind, child] of cached) {
      if (!desired.some((o) => o.kind === childKind)) {
        await this.writer.delete(child);
        cached.delete(childKind);
      }
    }
    if (kind.updates === 'on-change') {
      main.metadata = {
        ...main.metadata,
        annotations: { ...main.metadata?.annotations, [SPEC_HASH_ANNOTATION]: hash },
      };
    }
    await this.writer.apply(main);
    if (!cached.has(primary.kind)) {
      this.log.info(
        {
          run: objectKey(run.metadata.namespace ?? '', run.metadata.name),
          [primary.kind.toLowerCase()]: childName(run),
        },
        `created ${primary.kind.toLowerCase()}`,
      );
    }
    for (const child of desired) if (!cached.has(child.kind ?? '')) cached.set(child.kind ?? '', child);
    return cached;
  }

  private async deleteChildren(run: LeafRunSummary, kind: RunKind): Promise<void> {
    await this.kindCaches(kind);
    const name = childName(run);
    const namespace = run.metadata.namespace ?? '';
    for (const resource of kind.children) {
      const child = this.childCache(resource).get(name, namespace);
      // In the foreground: the Job or Deployment stays until the garbage collector has deleted its pods.
      if (child && !child.metadata?.deletionTimestamp) await this.writer.delete(child);
    }
  }

  private async writeStatus(run: LeafRunSummary, observation: Observation): Promise<RunStatus | undefined> {
    const key = objectKey(run.metadata.namespace, run.metadata.name);
    // Only this controller writes status, so what it last wrote is never older than the cache,
    // and often newer: deriving from it keeps timestamps stable while the cache catches up.
    const previous = this.statusOf(run);
    const status = deriveStatus(previous, observation);
    if (JSON.stringify(status) === JSON.stringify(previous ?? {})) return status;
    const wait = this.pacer.delay(uidOf(run), status, Date.now());
    if (wait > 0) {
      this.queue.addAfter(key, wait);
      return status;
    }
    try {
      // A merge patch keeps the fields it does not name: one the status no longer has is sent as null.
      const cleared = Object.keys(previous ?? {})
        .filter((field) => status[field as keyof RunStatus] === undefined)
        .map((field) => [field, null]);
      await this.writer.patchStatus(runsPath(run.metadata.namespace ?? '', run.metadata.name), {
        ...status,
        ...Object.fromEntries(cleared),
      });
    } catch (error) {
      ignoreNotFound(error);
      return undefined;
    }
    this.written.set(uidOf(run), status);
    // A run written as final frees its place at once, before the cache hears of it.
    if (isFinalStatus(status)) this.dropActive(run);
    this.pacer.wrote(uidOf(run), Date.now());
    if (status.phase !== previous?.phase) {
      this.log.info({ run: key, phase: status.phase, reason: status.reason, message: status.message }, 'phase changed');
    }
    const event = runEvent(run, previous, status);
    if (event) this.recorder.record(event);
    return status;
  }

  private observeMetrics(): void {
    const now = Date.now();
    const byPhase = new Map<string, { namespace: string; phase: string; count: number }>();
    const oldestPending = new Map<string, number>();
    for (const run of this.runs.list()) {
      const namespace = run.metadata.namespace ?? '';
      const phase = run.status?.phase ?? 'created';
      const entry = byPhase.get(`${namespace}/${phase}`) ?? { namespace, phase, count: 0 };
      byPhase.set(`${namespace}/${phase}`, { ...entry, count: entry.count + 1 });
      if (PENDING_PHASES.has(phase)) {
        const age = (now - new Date(String(run.metadata['creationTimestamp'])).getTime()) / 1000;
        oldestPending.set(namespace, Math.max(age, oldestPending.get(namespace) ?? 0));
      }
    }
    this.metrics.runsByPhase.reset();
    for (const { namespace, phase, count } of byPhase.values())
      this.metrics.runsByPhase.set({ namespace, phase }, count);
    this.metrics.oldestPending.reset();
    for (const [namespace, age] of oldestPending) this.metrics.oldestPending.set({ namespace }, age);
  }
}
