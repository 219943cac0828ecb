import { createHash } from 'node:crypto';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  type CoreV1Event,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Deployment,
  type V1Ingress,
  type V1Job,
  type V1Node,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { PLINTH_LABELS } from '../../constructs/labels.js';
import { ApiWriter } from '../runtime/api-writer.js';
import type { EventRecorder } from '../runtime/event-recorder.js';
import { LatestEvents } from '../runtime/latest-events.js';
import { stripManagedFields, trimDeployment, trimJob, trimPod } from '../runtime/cache-trim.js';
import type { PlatformDefaults, TeamDefaults } from '../api/platform-defaults.js';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION, runsPath, type Run, type RunStatus } from '../api/run.js';
import type { ControllerMetrics } from '../metrics.js';
import { childName, desiredJob, desiredService } from './desired-children.js';
import { runEvent } from './run-events.js';
import { deriveStatus, isFinalStatus, type Observation } from './run-status.js';
import { invalidity } from './run-validity.js';
import { serviceRoute } from './service-route.js';
import { StatusPacer } from './status-pacing.js';
import { TeamAdmission } from './team-admission.js';
import { makeStreamingInformer, type Transform } from '../runtime/streaming-watch.js';
import { WorkQueue } from '../runtime/work-queue.js';

export const FIELD_MANAGER = 'plinth-controller';
const SPEC_HASH_ANNOTATION = 'plinth.dev/spec-hash';
/** As controller-runtime's SyncPeriod: how often every unfinished run is reconciled again. */
export const RESYNC_MS = 60_000;
/** The events that explain a podless Job: the Job controller could not create its pod. */
const FAILED_CREATE_EVENTS = 'involvedObject.kind=Job,reason=FailedCreate';
/** The events that explain a pod stuck starting: the kubelet cannot mount a volume (a missing Secret). */
const MOUNT_FAILURE_EVENTS = 'involvedObject.kind=Pod,reason=FailedMount';
/** Phases in which a run waits for something; the pending-too-long alert watches their age. */
const PENDING_PHASES = new Set(['created', 'queued', 'unschedulable', 'scheduled']);

type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace}/${name}`;
/** Per-run state is kept by uid: a run re-created under the same name starts afresh. */
const uidOf = (run: Run) => String(run.metadata.uid);

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof ApiException && error.code === 404)) throw error;
}

/**
 * Reconciles Runs into Jobs, or Deployments and Services, controller-runtime style: informers feed
 * a rate-limited queue of run keys; each reconcile reads the caches, admits the run against its
 * team's quota, applies the desired children with server-side apply, and writes the status.
 */
export class RunController {
  readonly queue = new WorkQueue();
  private readonly admission = new TeamAdmission();
  private readonly runs: Cache<Run>;
  private readonly jobs: Cache<V1Job>;
  private readonly deployments: Cache<V1Deployment>;
  private readonly services: Cache<V1Service>;
  private readonly ingresses: Cache<V1Ingress>;
  private readonly pods: Cache<V1Pod>;
  private readonly nodes: Cache<V1Node>;
  private readonly failedCreates: Cache<CoreV1Event>;
  private readonly mountFailures: Cache<CoreV1Event>;
  private readonly writer: ApiWriter;
  private readonly customObjects: CustomObjectsApi;
  private readonly batch: BatchV1Api;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly networking: NetworkingV1Api;
  private synced = false;
  private stopped = false;
  /** The status last written for each run, by uid. */
  private readonly written = new Map<string, RunStatus>();
  private readonly pacer = new StatusPacer();
  /** The latest FailedCreate message of each Job, and FailedMount message of each pod. */
  private readonly failedCreateByJob = new LatestEvents('the Job controller could not create a pod');
  private readonly mountFailureByPod = new LatestEvents('a volume cannot be mounted');
  private readonly mountFailureOf = (pod: V1Pod) =>
    this.mountFailureByPod.get(keyOf(pod.metadata?.namespace, pod.metadata?.name));
  /**
   * By namespace, the runs that hold or want capacity (neither finished nor stopped): admission
   * reads these, not every run the team ever made.
   */
  private readonly activeByNamespace = new Map<string, Map<string, Run>>();
  /** Set once the Service and Ingress caches are started: only service runs need them. */
  private serviceCachesSynced?: Promise<void>;
  /** Pods by run key: reconciles read a run's pods without scanning every pod. */
  private readonly podsByRun = new Map<string, Map<string, V1Pod>>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    kc: KubeConfig,
    private readonly defaults: PlatformDefaults,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
    /** Tells each run's story in Events, which `kubectl describe run` shows. */
    private readonly recorder: EventRecorder,
    private readonly resyncMs = RESYNC_MS,
  ) {
    this.writer = new ApiWriter(kc, FIELD_MANAGER);
    this.customObjects = kc.makeApiClient(CustomObjectsApi);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    const children = PLINTH_LABELS.run;
    this.runs = makeStreamingInformer<Run>(
      kc,
      runsPath(),
      () =>
        this.customObjects.listClusterCustomObject({
          group: RUN_GROUP,
          version: RUN_VERSION,
          plural: RUN_PLURAL,
        }) as never,
      { transform: stripManagedFields },
    );
    // A run's children and pods carry its label; each cache keeps only what the controller reads
    // back (cache-trim.ts).
    const ofRuns = <T extends KubernetesObject>(
      path: string,
      list: (selector: { labelSelector: string }) => Promise<KubernetesListObject<T>>,
      transform: Transform<T>,
    ) =>
      makeStreamingInformer<T>(kc, path, () => list({ labelSelector: children }), {
        labelSelector: children,
        transform,
      });
    this.jobs = ofRuns('/apis/batch/v1/jobs', (s) => this.batch.listJobForAllNamespaces(s), trimJob);
    this.deployments = ofRuns(
      '/apis/apps/v1/deployments',
      (s) => this.apps.listDeploymentForAllNamespaces(s),
      trimDeployment,
    );
    // Watched so that a Service or Ingress deleted by hand is made again, as a Deployment is; started
    // with the first service run (serviceCaches).
    this.services = ofRuns('/api/v1/services', (s) => this.core.listServiceForAllNamespaces(s), stripManagedFields);
    this.ingresses = ofRuns(
      '/apis/networking.k8s.io/v1/ingresses',
      (s) => this.networking.listIngressForAllNamespaces(s),
      stripManagedFields,
    );
    this.pods = ofRuns('/api/v1/pods', (s) => this.core.listPodForAllNamespaces(s), trimPod);
    this.nodes = makeStreamingInformer<V1Node>(kc, '/api/v1/nodes', () => this.core.listNode(), {
      transform: stripManagedFields,
    });
    // Watched rather than listed per run: one cheap stream each, and a diagnosis as soon as it happens.
    const events = (fieldSelector: string) =>
      makeStreamingInformer<CoreV1Event>(
        kc,
        '/api/v1/events',
        () => this.core.listEventForAllNamespaces({ fieldSelector }),
        { fieldSelector, transform: stripManagedFields },
      );
    this.failedCreates = events(FAILED_CREATE_EVENTS);
    this.mountFailures = events(MOUNT_FAILURE_EVENTS);
  }

  /** The newest status of a run: what this controller last wrote, or the cache's if it knows none. */
  private statusOf(run: Run): RunStatus | undefined {
    return this.written.get(uidOf(run)) ?? run.status;
  }

  /** Final by the newest status: a run just written as done is not re-admitted while the cache catches up. */
  private isFinal(run: Run): boolean {
    return isFinalStatus(this.statusOf(run));
  }

  /** The caches of what runs are made of: their children and pods, each labelled with its run. */
  private ofRunCaches(): Cache<KubernetesObject>[] {
    return [this.jobs, this.deployments, this.services, this.ingresses, this.pods] as Cache<KubernetesObject>[];
  }

  /** Every cache but the runs'. */
  private clusterCaches(): Cache<KubernetesObject>[] {
    return [...this.ofRunCaches(), this.nodes, this.failedCreates, this.mountFailures] as Cache<KubernetesObject>[];
  }

  /** The caches started with the controller: all but the Services' and Ingresses'. */
  private startupCaches(): Cache<KubernetesObject>[] {
    return this.clusterCaches().filter((c) => c !== this.services && c !== this.ingresses);
  }

  /**
   * The Service and Ingress caches, synced. They start with the first service run: a platform that
   * runs only jobs holds no watches for them. With the watches open, the benchmark's job runs went
   * slower, for reasons not yet understood (see the README's benchmark notes).
   */
  private serviceCaches(): Promise<void> {
    this.serviceCachesSynced ??= Promise.all([this.services.start(), this.ingresses.start()]).then(
      () => undefined,
      (error: unknown) => {
        // The next service run tries again.
        this.serviceCachesSynced = undefined;
        throw error;
      },
    );
    return this.serviceCachesSynced;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  async start(workers: number): Promise<Promise<void>[]> {
    const enqueueRun = (run: Run) => this.queue.add(keyOf(run.metadata.namespace, run.metadata.name));
    const arrive = (run: Run) => {
      this.trackActive(run);
      this.pacer.arrived(uidOf(run), Date.now());
      // Runs of the initial list are ordered by noteExisting once the cache is synced.
      if (this.synced) this.admission.noteArrival(run);
      // A new run's first reconcile creates its workload: it goes before status follow-ups.
      this.queue.add(keyOf(run.metadata.namespace, run.metadata.name), this.synced);
    };
    const enqueueOwner = (child: KubernetesObject) => {
      const run = child.metadata?.labels?.[PLINTH_LABELS.run];
      if (run) this.queue.add(keyOf(child.metadata?.namespace, run));
    };
    const indexPod = (pod: V1Pod) => {
      const key = keyOf(pod.metadata?.namespace, pod.metadata?.labels?.[PLINTH_LABELS.run]);
      const pods = this.podsByRun.get(key) ?? new Map<string, V1Pod>();
      pods.set(pod.metadata?.name ?? '', pod);
      this.podsByRun.set(key, pods);
    };
    this.pods.on('add', indexPod);
    this.pods.on('update', indexPod);
    this.pods.on('delete', (pod) => {
      const key = keyOf(pod.metadata?.namespace, pod.metadata?.labels?.[PLINTH_LABELS.run]);
      this.podsByRun.get(key)?.delete(pod.metadata?.name ?? '');
      if (this.podsByRun.get(key)?.size === 0) this.podsByRun.delete(key);
      this.mountFailureByPod.forget(keyOf(pod.metadata?.namespace, pod.metadata?.name));
    });
    this.runs.on('add', arrive);
    this.runs.on('update', (run) => {
      this.trackActive(run);
      // This controller's own status writes come back as updates: only a new generation is news.
      const written = this.written.get(uidOf(run));
      if (written?.observedGeneration === undefined || written.observedGeneration !== run.metadata.generation) {
        enqueueRun(run);
      }
    });
    this.runs.on('delete', (run) => {
      this.dropActive(run);
      this.admission.forget(run);
      this.written.delete(uidOf(run));
      this.pacer.forget(uidOf(run));
      this.recorder.forget(uidOf(run));
      this.failedCreateByJob.forget(keyOf(run.metadata.namespace, childName(run)));
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
      if (!this.jobs.get(event.involvedObject.name ?? '', event.involvedObject.namespace)) return;
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
    for (const informer of [this.runs, ...this.clusterCaches()]) {
      informer.on('error', (err: unknown) => {
        if (this.stopped) return;
        this.log.warn({ err: String(err) }, 'watch failed; restarting it');
        setTimeout(() => void informer.start(), 1000);
      });
    }
    // Runs last: a run's first reconcile finds its children already listed.
    await Promise.all(this.startupCaches().map((informer) => informer.start()));
    await this.runs.start();
    this.rebuildAdmissions();
    this.synced = true;
    this.log.info({ runs: this.runs.list().length }, 'caches synced');

    // A finished run is settled for good, and they pile up by the thousand: resyncing them would
    // only confirm it, while the runs that still wait queue behind.
    const resync = () =>
      this.runs.list().forEach((run) => {
        if (!this.isFinal(run)) enqueueRun(run);
      });
    this.timers.push(setInterval(resync, this.resyncMs));
    this.timers.push(setInterval(() => this.observeMetrics(), 5000));
    return Array.from({ length: workers }, () => this.worker());
  }

  /** Stops taking work; in-flight reconciles finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    this.queue.shutDown();
    await Promise.all([this.runs, ...this.clusterCaches()].map((i) => i.stop()));
  }

  /** After a restart: runs whose workloads exist, or that were marked admitted, keep their place. */
  private rebuildAdmissions(): void {
    this.admission.noteExisting(this.runs.list());
    for (const run of this.runs.list()) {
      if (this.isFinal(run) || run.spec.stopped) {
        this.admission.release(run);
        continue;
      }
      const ns = run.metadata.namespace;
      const name = childName(run);
      const admitted = run.status?.conditions?.some((c) => c.type === 'Admitted' && c.status === 'True');
      if (admitted || this.jobs.get(name, ns) || this.deployments.get(name, ns)) this.admission.markAdmitted(run);
    }
  }

  private async worker(): Promise<void> {
    for (;;) {
      // Reconciles served from the caches never touch I/O; yielding here keeps watch events,
      // timers and signals flowing however full the queue is.
      await yieldToEventLoop();
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set(this.queue.depth);
      const end = this.metrics.reconcileDuration.startTimer();
      try {
        await this.reconcile(key);
        this.queue.forget(key);
        end({ result: 'success' });
      } catch (error) {
        end({ result: 'error' });
        this.log.warn(
          { run: key, err: error instanceof Error ? error.message : String(error) },
          'reconcile failed; will retry',
        );
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** After capacity frees: the runs at the head of the namespace's queue. */
  private enqueueWaiting(namespace: string): void {
    const team = this.defaults.teams[namespace];
    if (!team || !this.admission.hasWaiting(namespace)) return;
    for (const run of this.admission.queueHead(this.activeRuns(namespace), team)) {
      this.queue.add(keyOf(namespace, run.metadata.name));
    }
  }

  /** Runs of a namespace that hold or want capacity. */
  private activeRuns(namespace: string): Run[] {
    return [...(this.activeByNamespace.get(namespace)?.values() ?? [])];
  }

  /** Keeps a run's entry in activeByNamespace up to date with the newest object the cache has. */
  private trackActive(run: Run): void {
    if (this.isFinal(run) || run.spec.stopped) return this.dropActive(run);
    const runs = this.activeByNamespace.get(run.metadata.namespace ?? '') ?? new Map<string, Run>();
    this.activeByNamespace.set(run.metadata.namespace ?? '', runs.set(uidOf(run), run));
  }

  private dropActive(run: Run): void {
    this.activeByNamespace.get(run.metadata.namespace ?? '')?.delete(uidOf(run));
  }

  async reconcile(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    const run = this.runs.get(name, namespace);
    if (!run) return; // deleted: its children go with it through their ownerReferences
    if (this.isFinal(run)) return this.release(run);

    const observation = {
      now: new Date(),
      generation: run.metadata.generation ?? 0,
      pods: this.podsOf(run),
      nodes: this.nodes.list(),
      mountFailureOf: this.mountFailureOf,
    };
    const team = this.defaults.teams[namespace];
    const invalid = invalidity(run, team, this.defaults);
    if (invalid || !team) {
      this.settle(run, await this.writeStatus(run, { ...observation, invalid }));
      return;
    }

    if (run.spec.stopped) {
      await this.deleteChildren(run);
      const podsLeft = observation.pods.length;
      await this.writeStatus(run, { ...observation, stopping: { podsLeft } });
      if (podsLeft === 0) this.release(run);
      return;
    }

    const decision = this.admission.decide(run, () => this.activeRuns(namespace), team);
    if (!decision.admitted) {
      const waiting = { message: decision.message, impossible: decision.impossible };
      this.settle(run, await this.writeStatus(run, { ...observation, waiting }));
      return;
    }

    const job = run.spec.kind === 'job' ? await this.ensureJob(run, team.team) : undefined;
    const deployment = run.spec.kind === 'service' ? await this.ensureService(run, team) : undefined;
    const failedCreate = job && this.podless(job, key) ? this.failedCreateByJob.get(key) : undefined;
    const url = serviceRoute(run, team)?.url;
    this.settle(run, await this.writeStatus(run, { ...observation, job, deployment, failedCreate, url }));
  }

  /** A run written as final releases what it held, or its place in the queue. */
  private settle(run: Run, status: RunStatus | undefined): void {
    if (isFinalStatus(status)) this.release(run);
  }

  /** A Job with no pod: only then does a FailedCreate event explain anything. */
  private podless(job: V1Job, key: string): boolean {
    return !(job.status?.active || job.status?.succeeded || job.status?.failed || this.podsByRun.has(key));
  }

  private podsOf(run: Run): V1Pod[] {
    return [...(this.podsByRun.get(keyOf(run.metadata.namespace, run.metadata.name))?.values() ?? [])];
  }

  /** A run that no longer holds or wants capacity; what it held goes to the head of the queue. */
  private release(run: Run): void {
    if (this.admission.release(run)) this.enqueueWaiting(run.metadata.namespace ?? '');
  }

  /** A Job's pod template is immutable: it is created once and never updated. */
  private async ensureJob(run: Run, team: string): Promise<V1Job> {
    const existing = this.jobs.get(childName(run), run.metadata.namespace);
    if (existing) return existing;
    const job = desiredJob(run, this.defaults, team);
    await this.writer.apply(job);
    this.log.info({ run: keyOf(run.metadata.namespace, run.metadata.name), job: job.metadata?.name }, 'created job');
    return job;
  }

  /**
   * The Deployment goes last and carries the hash of every child's spec, so a reconcile cut short
   * finds the old hash and applies them all again, as it does when a child has gone missing. An
   * Ingress no longer wanted is deleted.
   */
  private async ensureService(run: Run, team: TeamDefaults): Promise<V1Deployment> {
    const { deployment, service, ingress } = desiredService(run, this.defaults, team);
    const hash = createHash('sha256')
      .update(JSON.stringify([deployment.spec, service.spec, ingress?.spec ?? null]))
      .digest('hex')
      .slice(0, 16);
    const name = childName(run);
    const namespace = run.metadata.namespace ?? '';
    const existing = this.deployments.get(name, namespace);
    await this.serviceCaches();
    const complete =
      this.services.get(name, namespace) !== undefined &&
      (this.ingresses.get(name, namespace) !== undefined) === (ingress !== undefined);
    if (complete && existing?.metadata?.annotations?.[SPEC_HASH_ANNOTATION] === hash) return existing;
    await this.writer.apply(service);
    if (ingress) await this.writer.apply(ingress);
    else if (this.ingresses.get(name, namespace)) {
      await this.networking.deleteNamespacedIngress({ name, namespace }).catch(ignoreNotFound);
    }
    deployment.metadata = { ...deployment.metadata, annotations: { [SPEC_HASH_ANNOTATION]: hash } };
    await this.writer.apply(deployment);
    return existing ?? deployment;
  }

  private async deleteChildren(run: Run): Promise<void> {
    const name = childName(run);
    const namespace = run.metadata.namespace ?? '';
    // Foreground: the Job or Deployment stays until the garbage collector has deleted its pods.
    const options = { name, namespace, propagationPolicy: 'Foreground' };
    const live = (cache: Cache<KubernetesObject>) => {
      const child = cache.get(name, namespace);
      return child !== undefined && !child.metadata?.deletionTimestamp;
    };
    if (live(this.jobs)) await this.batch.deleteNamespacedJob(options).catch(ignoreNotFound);
    if (live(this.deployments)) await this.apps.deleteNamespacedDeployment(options).catch(ignoreNotFound);
    if (run.spec.kind !== 'service') return;
    await this.serviceCaches();
    if (live(this.services)) await this.core.deleteNamespacedService({ name, namespace }).catch(ignoreNotFound);
    if (live(this.ingresses)) {
      await this.networking.deleteNamespacedIngress({ name, namespace }).catch(ignoreNotFound);
    }
  }

  private async writeStatus(run: Run, observation: Observation): Promise<RunStatus | undefined> {
    const key = keyOf(run.metadata.namespace, run.metadata.name);
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
    this.metrics.queueDepth.set(this.queue.depth);
  }
}
