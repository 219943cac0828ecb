import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { PLINTH_LABELS } from '../../model/labels.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { RUN_TRACKER_NAME } from '../api/metrics.js';
import type { PlatformDefaults } from '../api/platform-defaults.js';
import { CONDITION, REASON } from '../api/reasons.js';
import { runsPath, type Run, type RunStatus, type RunTracking } from '../api/run.js';
import { isLeafRun } from '../api/composition.js';
import { CACHED, RUN_CACHE, type CachedRun, type LeafRunSummary } from '../runs/cached-run.js';
import { effectivePool } from '../runs/effective-pool.js';
import { isFinalStatus } from '../runs/run-status.js';
import { withMetrics } from '../runs/reported-outputs.js';
import type { ControllerMetrics } from '../metrics.js';
import { ApiReader } from '../runtime/api-reader.js';
import { ApiWriter } from '../runtime/api-writer.js';
import { runControllerLoop, type Reconciler } from '../runtime/controller-loop.js';
import type { Manager } from '../runtime/manager.js';
import { objectKey, splitObjectKey } from '../runtime/object-key.js';
import type { SharedCache } from '../runtime/shared-informer.js';
import { WorkQueue } from '../runtime/work-queue.js';
import { MlflowClient } from './mlflow-client.js';
import {
  MLFLOW_END,
  mlflowRunRecord,
  mlflowRunUrl,
  PARAMS_PER_BATCH,
  ranTags,
  RUN_UID_TAG,
  teamExperimentArtifacts,
  teamExperimentName,
  trackingWait,
} from './run-tracking.js';

/** What the Run controller does about a run's MLflow run before it makes the run's workload. */
export type TrackingDecision =
  /** Its containers are told the MLflow run's id. */
  | { readonly linked: RunTracking }
  /** Not made yet: the workload waits, and the run is looked at again after this long. */
  | { readonly waitMs: number }
  /** The tracking server did not answer in time: the workload starts without, and the status says why. */
  | { readonly unavailable: string };

/** What the Run controller asks of the tracker (README, Tracking). */
export interface TrackingGate {
  decide(run: LeafRunSummary, status: RunStatus | undefined, now: number): TrackingDecision;
}

const uidOf = (run: Pick<CachedRun, 'metadata'>) => String(run.metadata.uid);
const trackedOf = (status: RunStatus | undefined) => status?.conditions?.find((c) => c.type === CONDITION.Tracked);

/**
 * Makes an MLflow run for every run whose workload the Run controller is about to make, in its
 * team's experiment, with its params and tags, so that `mlflow.start_run()` in the run's code
 * attaches to it (MLFLOW_RUN_ID); and once the run has finished, ends the MLflow run as the run
 * ended. A run's MLflow run is found again by its uid tag, so a controller that restarts between
 * making one and writing the run's status makes no second one.
 *
 * Tracking never blocks a run: the Run controller asks `decide`, which says wait only while the
 * server has not failed for `tracking.waitSeconds`. A run that started without is linked once the
 * server answers. Only the leader runs it, as the manager starts runnables once it leads.
 */
export class RunTracker implements Reconciler, TrackingGate {
  private readonly queue: WorkQueue;
  private readonly runs: SharedCache<CachedRun>;
  private readonly writer: ApiWriter;
  private readonly reader: ApiReader;
  private readonly client: MlflowClient;
  /** Runs whose workload the Run controller wants, by uid: since when, for the wait. */
  private readonly wanted = new Map<string, number>();
  /** MLflow runs made, by the run's uid, until the run's status holds them. */
  private readonly linked = new Map<string, RunTracking>();
  /** Experiment ids, by team. */
  private readonly experiments = new Map<string, string>();
  /** Since when the tracking server has not answered, and what it last said; undefined while it does. */
  private outage: { since: number; error: string } | undefined;

  constructor(
    kc: KubeConfig,
    manager: Manager,
    private readonly defaults: PlatformDefaults,
    /** The tracking server's URL as this process reaches it, where that is not `defaults.tracking.uri`. */
    endpoint: string | undefined,
    /** Called once a run's MLflow run is made, for the Run controller to write it and make the workload. */
    private readonly onLinked: (runKey: string) => void,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
  ) {
    // A server that does not answer is tried again after a second, then less and less often.
    this.queue = new WorkQueue({ baseDelayMs: 1000, maxDelayMs: 30_000, metrics: metrics.workQueue(RUN_TRACKER_NAME) });
    this.runs = manager.informer(RUN_CACHE);
    this.writer = new ApiWriter(kc, CONTROLLER_NAME, new Map());
    this.reader = new ApiReader(kc);
    this.client = new MlflowClient(endpoint ?? defaults.tracking.uri);
  }

  start(workers: number): Promise<void>[] {
    const look = (run: CachedRun) => {
      if (!isLeafRun(run)) return;
      // The status holds the MLflow run now: the Run controller reads it from there.
      if (run.status?.tracking) this.linked.delete(uidOf(run));
      if (this.endsPending(run)) this.queue.add(objectKey(run.metadata.namespace, run.metadata.name));
    };
    this.runs.on('add', look);
    this.runs.on('update', look);
    this.runs.on('delete', (run) => {
      this.wanted.delete(uidOf(run));
      this.linked.delete(uidOf(run));
    });
    const metrics = this.metrics.controllerLoop(RUN_TRACKER_NAME);
    return runControllerLoop({ reconciler: this, queue: this.queue, workers, log: this.log, metrics });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
  }

  /**
   * A finished run whose MLflow run has not been told how it ended: one linked or still to be
   * linked (Tracked), or one made while the run was stopped before its status said so.
   */
  private endsPending(run: CachedRun): boolean {
    if (!isFinalStatus(run.status)) return false;
    const tracked = trackedOf(run.status);
    return tracked ? tracked.reason !== REASON.TrackingRecorded : this.linked.has(uidOf(run));
  }

  decide(run: LeafRunSummary, status: RunStatus | undefined, now: number): TrackingDecision {
    const uid = uidOf(run);
    const linked = status?.tracking ?? this.linked.get(uid);
    if (linked) return { linked };
    let since = this.wanted.get(uid);
    if (since === undefined) {
      since = now;
      this.wanted.set(uid, now);
      this.queue.add(objectKey(run.metadata.namespace, run.metadata.name));
    }
    const wait = trackingWait({
      now,
      wantedSince: since,
      outageSince: this.outage?.since,
      waitMs: this.defaults.tracking.waitSeconds * 1000,
    });
    if (wait.waiting) return { waitMs: wait.retryMs };
    const why = this.outage?.error ?? 'no answer yet';
    return {
      unavailable: `the tracking server did not answer within ${this.defaults.tracking.waitSeconds}s (${why}); the run started without an MLflow run, and gets one once the server answers`,
    };
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    const run = this.runs.get(name, namespace);
    if (!run || !isLeafRun(run)) return;
    const uid = uidOf(run);
    if (!isFinalStatus(run.status)) {
      if (run.status?.tracking || this.linked.has(uid) || !this.wanted.has(uid)) return;
      const tracking = await this.link(run);
      if (!tracking) return;
      this.linked.set(uid, tracking);
      this.onLinked(key);
      return;
    }
    if (!this.endsPending(run)) return;
    await this.end(run);
  }

  /**
   * Calls the tracking server, noting whether it answers: the wait of new runs depends on it. A
   * failure is thrown, and the run tried again with back-off.
   */
  private async mlflow<T>(call: (client: MlflowClient) => Promise<T>): Promise<T> {
    try {
      const result = await call(this.client);
      if (this.outage)
        this.log.info({ since: new Date(this.outage.since).toISOString() }, 'the tracking server answers again');
      this.outage = undefined;
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!this.outage) this.log.warn({ err: message }, 'the tracking server does not answer');
      this.outage = { since: this.outage?.since ?? Date.now(), error: message };
      throw error;
    }
  }

  /** The run's MLflow run: the one its uid tag finds, or a new one with its params and tags. */
  private async link(run: CachedRun): Promise<RunTracking | undefined> {
    const namespace = run.metadata.namespace ?? '';
    const team = this.defaults.teams[namespace];
    if (!team) return undefined;
    const experimentId = await this.experimentOf(team);
    const uid = uidOf(run);
    let runId = await this.mlflow((c) => c.runWithTag(experimentId, { key: RUN_UID_TAG, value: uid }));
    if (!runId) {
      const whole = await this.wholeRun(run);
      // Gone, or re-created under its name: nothing to track.
      if (!whole) return undefined;
      const pool = isLeafRun(whole) ? effectivePool(whole, team).pool : undefined;
      const record = mlflowRunRecord(whole, team.team, pool);
      // Made with its tags at once: the uid tag is what finds it again.
      const made = await this.mlflow((c) =>
        c.createRun({ experimentId, name: record.name, startTime: Date.now(), tags: record.tags }),
      );
      for (let i = 0; i < record.params.length; i += PARAMS_PER_BATCH) {
        const params = record.params.slice(i, i + PARAMS_PER_BATCH);
        await this.mlflow((c) => c.logBatch(made, { params, tags: [] }));
      }
      runId = made;
      this.log.info({ run: objectKey(namespace, run.metadata.name), experimentId, runId }, 'made its MLflow run');
    }
    return { experimentId, runId, url: mlflowRunUrl(this.defaults.tracking.uiUrl, experimentId, runId) };
  }

  /** The team's experiment, made where it is missing and brought back where it was deleted. */
  private async experimentOf(team: PlatformDefaults['teams'][string]): Promise<string> {
    const known = this.experiments.get(team.team);
    if (known) return known;
    const name = teamExperimentName(team.team);
    const tags = [{ key: PLINTH_LABELS.team, value: team.team }];
    const id = await this.mlflow(async (c) => {
      const found = await c.experimentByName(name);
      if (found?.lifecycle_stage === 'deleted') await c.restoreExperiment(found.experiment_id);
      if (found) return found.experiment_id;
      return c.createExperiment(name, teamExperimentArtifacts(team), tags).catch(async (error: unknown) => {
        // Made meanwhile, by a person, say.
        const made = await c.experimentByName(name);
        if (!made) throw error;
        return made.experiment_id;
      });
    });
    this.experiments.set(team.team, id);
    return id;
  }

  /** The whole run, for its params: the cache keeps them only for a run it keeps whole. */
  private async wholeRun(run: CachedRun): Promise<Run | undefined> {
    if (run[CACHED] === 'whole') return run as unknown as Run;
    const whole = await this.reader.get<Run>(runsPath(run.metadata.namespace ?? '', run.metadata.name));
    return whole?.metadata.uid === run.metadata.uid ? whole : undefined;
  }

  /**
   * Ends a finished run's MLflow run as the run ended (linking one first, for a run that started
   * while the server did not answer), and says so in its Tracked condition. The Run controller
   * writes no status after a run has finished; the log archiver may, so the write holds only if
   * the run is still as read.
   */
  private async end(run: CachedRun): Promise<void> {
    const status = run.status ?? {};
    const tracking = status.tracking ?? this.linked.get(uidOf(run)) ?? (await this.link(run));
    if (!tracking) return;
    const phase = status.phase as keyof typeof MLFLOW_END;
    const endTime = status.finishedAt ? new Date(status.finishedAt).getTime() : Date.now();
    // What ran, then how it ended; and what it logged last, into what the run reports.
    const images = ranTags(status.images);
    if (images.length > 0) await this.mlflow((c) => c.logBatch(tracking.runId, { params: [], tags: images }));
    const logged = await this.mlflow((c) => c.getRun(tracking.runId));
    const metrics = Object.fromEntries((logged.data.metrics ?? []).map((m) => [m.key, m.value]));
    const outputs = withMetrics(status.outputs, metrics);
    await this.mlflow((c) => c.endRun(tracking.runId, MLFLOW_END[phase], endTime));
    const now = new Date().toISOString();
    const conditions = [
      ...(status.conditions ?? []).filter((c) => c.type !== CONDITION.Tracked),
      {
        type: CONDITION.Tracked,
        status: 'True' as const,
        reason: REASON.TrackingRecorded,
        message: `MLflow run ${tracking.runId} ended ${MLFLOW_END[phase]}`,
        lastTransitionTime: trackedOf(status)?.status === 'True' ? trackedOf(status)?.lastTransitionTime : now,
      },
    ];
    await this.writer.patchStatus(
      runsPath(run.metadata.namespace ?? '', run.metadata.name),
      { tracking, conditions, ...(Object.keys(outputs).length > 0 ? { outputs } : {}) },
      run.metadata.resourceVersion,
    );
    this.linked.delete(uidOf(run));
    this.wanted.delete(uidOf(run));
  }
}
