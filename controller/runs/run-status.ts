import type { V1Pod } from '@kubernetes/client-node';
import { CONDITION, REASON, type RunConditionType } from '../api/reasons.js';
import type { RunPhase, RunStatus, RunTracking } from '../api/run.js';
import type { Diagnosis } from './diagnosis.js';
import type { WorkloadState } from './kinds/run-kind.js';
import { ranImages } from './ran-images.js';
import { reportedOutputs } from './reported-outputs.js';
import { PLATFORM_VERSION } from '../../model/platform-version.js';

export const FINAL_PHASES: ReadonlySet<RunPhase> = new Set(['succeeded', 'failed', 'stopped']);

/** Whether a status is final: succeeded, failed or stopped. */
export const isFinalStatus = (status: RunStatus | undefined): boolean =>
  status?.phase !== undefined && FINAL_PHASES.has(status.phase);

/** What the reconciler observed of a run's world. */
export interface Observation {
  readonly now: Date;
  readonly generation: number;
  /**
   * Undefined once admitted; otherwise why the run waits (or cannot run at all). With a workload,
   * the run grew past what it was admitted for and its workload keeps its admitted size.
   */
  readonly waiting?: { readonly message: string; readonly impossible?: boolean };
  /** A problem found before anything was launched (bad pool, not a team namespace). */
  readonly invalid?: { readonly reason: string; readonly message: string };
  /** Once admitted: how its workload is doing, as its kind reads it (kinds/). */
  readonly workload?: WorkloadState;
  readonly pods: readonly V1Pod[];
  /** The pool the run goes to, where it has one. */
  readonly pool?: string;
  /** The run as kubectl lists it (composition.ts listedKind). */
  readonly kind?: string;
  /** Set while a stop is in progress: pods still terminating. */
  readonly stopping?: { readonly podsLeft: number };
  /**
   * The run's MLflow run where it has one, or why it started without (controller/tracking/).
   * Undefined where the platform tracks nothing, or while the run waits for it: the status keeps
   * what it said.
   */
  readonly tracking?: { readonly linked: RunTracking } | { readonly unavailable: string };
}

type Condition = NonNullable<RunStatus['conditions']>[number];

function since(value: unknown): string | undefined {
  return value ? new Date(value as string).toISOString() : undefined;
}

function condition(
  previous: readonly Condition[],
  now: Date,
  type: RunConditionType,
  status: boolean | 'Unknown',
  reason: string,
  message: string,
): Condition {
  const before = previous.find((c) => c.type === type);
  const value = status === 'Unknown' ? 'Unknown' : status ? 'True' : 'False';
  return {
    type,
    status: value,
    reason,
    message,
    lastTransitionTime:
      before?.status === value && before.lastTransitionTime ? before.lastTransitionTime : now.toISOString(),
  };
}

/**
 * The run's status from what was observed: a lifecycle phase that never claims more than the pods
 * show, a reason and message for anything short of running, and conditions with transition times.
 */
export function deriveStatus(previous: RunStatus | undefined, observed: Observation): RunStatus {
  const now = observed.now;
  const old = previous ?? {};
  // Attempts only ever grow: a Job deleted by a stop takes its counts with it.
  const attempts = Math.max(observed.workload?.attempts ?? observed.pods.length, old.attempts ?? 0);

  let d: Diagnosis;
  if (observed.invalid) d = { phase: 'failed', ...observed.invalid };
  else if (observed.stopping) {
    d =
      observed.stopping.podsLeft > 0
        ? {
            phase: old.phase ?? 'created',
            reason: REASON.Stopping,
            message: `stopping: ${observed.stopping.podsLeft} pod(s) still terminating`,
          }
        : { phase: 'stopped', reason: REASON.Stopped, message: 'stopped by request; every pod is gone' };
  } else if (observed.waiting && observed.workload) {
    // A run that grew past what it was admitted for: its workload runs on at its admitted size.
    d = { ...observed.workload.diagnosis, reason: REASON.WaitingForQuota, message: observed.waiting.message };
  } else if (observed.waiting) {
    d = observed.waiting.impossible
      ? { phase: 'failed', reason: REASON.ExceedsQuota, message: observed.waiting.message }
      : { phase: 'queued', reason: REASON.WaitingForQuota, message: observed.waiting.message };
  } else if (observed.workload) d = observed.workload.diagnosis;
  else d = { phase: 'created', reason: REASON.Admitted, message: 'admitted; creating its workload' };

  const final = FINAL_PHASES.has(d.phase);
  const running = d.phase === 'running';
  const scheduledPod = observed.pods.some((p) => p.spec?.nodeName);
  const prev = old.conditions ?? [];
  const conditions: Condition[] = [
    observed.waiting
      ? condition(prev, now, CONDITION.Admitted, false, REASON.WaitingForQuota, observed.waiting.message)
      : condition(
          prev,
          now,
          CONDITION.Admitted,
          !observed.invalid,
          observed.invalid ? observed.invalid.reason : REASON.QuotaAvailable,
          observed.invalid ? observed.invalid.message : 'within the team quota',
        ),
    d.phase === 'unschedulable'
      ? condition(prev, now, CONDITION.Scheduled, false, d.reason, d.message)
      : condition(
          prev,
          now,
          CONDITION.Scheduled,
          scheduledPod,
          scheduledPod ? REASON.Scheduled : REASON.NotScheduled,
          scheduledPod ? 'a pod is on a node' : 'no pod is on a node',
        ),
    condition(
      prev,
      now,
      CONDITION.Running,
      running,
      running ? REASON.Running : d.reason,
      running ? d.message : `not running: ${d.message}`,
    ),
    condition(
      prev,
      now,
      CONDITION.Finished,
      final,
      final ? d.reason : REASON.NotFinished,
      final ? d.message : 'the run has not finished',
    ),
    // Unknown until the end, so that `kubectl wait --for=condition=Succeeded=false` waits for a
    // failure as `--for=condition=Succeeded` waits for a success.
    condition(
      prev,
      now,
      CONDITION.Succeeded,
      final ? d.phase === 'succeeded' : 'Unknown',
      final ? d.reason : REASON.NotFinished,
      final ? d.message : 'the run has not finished',
    ),
    ...trackedCondition(prev, now, observed.tracking),
    // Written by the log archiver once the run has finished (controller/logs/): kept as it is.
    ...prev.filter((c) => c.type === CONDITION.LogsComplete),
  ];

  const images = ranImages(observed.pods);
  const firstRunning = observed.pods
    .map((p) => since(p.status?.startTime))
    .filter((t): t is string => t !== undefined)
    .sort()[0];
  return {
    phase: d.phase,
    reason: d.reason,
    message: d.message,
    conditions,
    startedAt: old.startedAt ?? (running || final ? firstRunning : undefined),
    finishedAt: final ? (old.finishedAt ?? now.toISOString()) : undefined,
    attempts,
    observedGeneration: observed.generation,
    url: observed.workload?.url,
    pool: observed.pool,
    kind: observed.kind,
    tracking: observed.tracking && 'linked' in observed.tracking ? observed.tracking.linked : old.tracking,
    // What ran and what it reported, kept once its pods are gone.
    images: images.length > 0 ? images : old.images,
    platformVersion: old.platformVersion ?? (observed.workload ? PLATFORM_VERSION : undefined),
    outputs: reportedOutputs(observed.pods) ?? old.outputs,
  };
}

/** Tracked, as the tracker says, or as it was where it says nothing now. */
function trackedCondition(prev: readonly Condition[], now: Date, tracking: Observation['tracking']): Condition[] {
  if (!tracking) return prev.filter((c) => c.type === CONDITION.Tracked);
  if ('unavailable' in tracking) {
    return [condition(prev, now, CONDITION.Tracked, false, REASON.TrackingUnavailable, tracking.unavailable)];
  }
  const { runId, experimentId } = tracking.linked;
  const late = prev.some((c) => c.type === CONDITION.Tracked && c.status === 'False');
  const message = late
    ? `MLflow run ${runId} in experiment ${experimentId}, made once the tracking server answered: the run's containers, started before, were not given MLFLOW_RUN_ID`
    : `MLflow run ${runId} in experiment ${experimentId}`;
  // A late link keeps saying so: its message is the one the condition got when it turned True.
  const before = prev.find((c) => c.type === CONDITION.Tracked && c.status === 'True');
  return [condition(prev, now, CONDITION.Tracked, true, REASON.TrackingLinked, before?.message ?? message)];
}
