import type { V1Deployment, V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import type { RunPhase, RunStatus } from '../api/run.js';
import { diagnosePod, terminationSummary, worstDiagnosis, type Diagnosis, type MountFailureOf } from './diagnosis.js';

export const FINAL_PHASES: ReadonlySet<RunPhase> = new Set(['succeeded', 'failed', 'stopped']);

/** Whether a status is final: succeeded, failed or stopped. */
export const isFinalStatus = (status: RunStatus | undefined): boolean =>
  status?.phase !== undefined && FINAL_PHASES.has(status.phase);

/** What the reconciler observed of a run's world. */
export interface Observation {
  readonly now: Date;
  readonly generation: number;
  /** Undefined once admitted; otherwise why the run waits (or cannot run at all). */
  readonly waiting?: { readonly message: string; readonly impossible?: boolean };
  /** A problem found before anything was launched (bad pool, not a team namespace). */
  readonly invalid?: { readonly reason: string; readonly message: string };
  readonly job?: V1Job;
  readonly deployment?: V1Deployment;
  readonly pods: readonly V1Pod[];
  /** The cluster's nodes, to name the real cause of an unschedulable pod. */
  readonly nodes: readonly V1Node[];
  /** The latest FailedMount message the kubelet sent about a pod. */
  readonly mountFailureOf?: MountFailureOf;
  /** The latest message of a FailedCreate event on the workload, e.g. a quota rejection. */
  readonly failedCreate?: string;
  /** Set while a stop is in progress: pods still terminating. */
  readonly stopping?: { readonly podsLeft: number };
  /** Where the run is served, once its Ingress is applied. */
  readonly url?: string;
}

type Condition = NonNullable<RunStatus['conditions']>[number];

function since(value: unknown): string | undefined {
  return value ? new Date(value as string).toISOString() : undefined;
}

function jobCondition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function newestPod(pods: readonly V1Pod[]): V1Pod | undefined {
  return [...pods].sort(
    (a, b) =>
      new Date(String(b.metadata?.creationTimestamp ?? 0)).getTime() -
      new Date(String(a.metadata?.creationTimestamp ?? 0)).getTime(),
  )[0];
}

function fromJob(job: V1Job, observed: Observation, attempts: number, limit: number): Diagnosis {
  const { pods, failedCreate } = observed;
  if (jobCondition(job, 'Complete'))
    return { phase: 'succeeded', reason: 'Completed', message: `succeeded after ${attempts} attempt(s)` };
  const failed = jobCondition(job, 'Failed');
  if (failed) {
    const lastFailure = pods.map(terminationSummary).find((t) => t !== undefined);
    const cause =
      failed.reason === 'DeadlineExceeded'
        ? 'the run exceeded its timeout'
        : lastFailure
          ? lastFailure.message
          : (failed.message ?? 'the job failed');
    return {
      phase: 'failed',
      reason: lastFailure?.reason ?? failed.reason ?? 'Failed',
      message: `failed after ${attempts} attempt(s): ${cause}`,
    };
  }
  const live = pods.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''));
  const current = newestPod(live);
  if (!current) {
    if (failedCreate) {
      const quota = failedCreate.includes('exceeded quota');
      return {
        phase: 'warning',
        reason: quota ? 'QuotaExceeded' : 'FailedCreate',
        message: `cannot create the pod: ${failedCreate}`,
      };
    }
    // The Job controller records a pod's success a moment after the pod ends: the run is not
    // back to waiting for a pod, it is finishing.
    if (pods.some((p) => p.status?.phase === 'Succeeded')) {
      return { phase: 'running', reason: 'Completing', message: 'the pod succeeded; the Job is recording it' };
    }
    return { phase: 'created', reason: 'WorkloadCreated', message: 'the Job exists; waiting for its pod' };
  }
  const diagnosis = diagnosePod(current, observed.nodes, observed.mountFailureOf?.(current));
  const failedBefore = job.status?.failed ?? 0;
  if (
    failedBefore > 0 &&
    diagnosis.phase !== 'running' &&
    diagnosis.phase !== 'unschedulable' &&
    diagnosis.phase !== 'warning'
  ) {
    const previous = pods.map(terminationSummary).find((t) => t !== undefined);
    return {
      phase: 'retrying',
      reason: 'Retrying',
      message: `attempt ${attempts} of ${limit + 1}; the previous one failed: ${previous?.message ?? 'unknown cause'}`,
    };
  }
  return diagnosis;
}

function fromDeployment(deployment: V1Deployment, observed: Observation): Diagnosis {
  const want = deployment.spec?.replicas ?? 1;
  const ready = deployment.status?.readyReplicas ?? 0;
  const failure = deployment.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (failure) {
    const quota = (failure.message ?? '').includes('exceeded quota');
    return {
      phase: 'warning',
      reason: quota ? 'QuotaExceeded' : 'FailedCreate',
      message: `cannot create pods: ${failure.message}`,
    };
  }
  if (want > 0 && ready >= want)
    return { phase: 'running', reason: 'Running', message: `${ready}/${want} replicas ready` };
  return (
    worstDiagnosis(observed.pods, observed.nodes, observed.mountFailureOf) ?? {
      phase: 'created',
      reason: 'WorkloadCreated',
      message: 'the Deployment exists; waiting for its pods',
    }
  );
}

function condition(
  previous: readonly Condition[],
  now: Date,
  type: string,
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
  const limit = observed.job?.spec?.backoffLimit ?? 0;
  // A pod that just ended sits in uncountedTerminatedPods until the Job controller counts it.
  const counts = observed.job?.status;
  const uncounted = counts?.uncountedTerminatedPods;
  const seen = observed.job
    ? (counts?.failed ?? 0) +
      (counts?.succeeded ?? 0) +
      (counts?.active ?? 0) +
      (uncounted?.failed?.length ?? 0) +
      (uncounted?.succeeded?.length ?? 0)
    : observed.pods.length;
  // Attempts only ever grow: a Job deleted by a stop takes its counts with it.
  const attempts = Math.max(seen, old.attempts ?? 0);

  let d: Diagnosis;
  if (observed.invalid) d = { phase: 'failed', ...observed.invalid };
  else if (observed.stopping) {
    d =
      observed.stopping.podsLeft > 0
        ? {
            phase: old.phase ?? 'created',
            reason: 'Stopping',
            message: `stopping: ${observed.stopping.podsLeft} pod(s) still terminating`,
          }
        : { phase: 'stopped', reason: 'Stopped', message: 'stopped by request; every pod is gone' };
  } else if (observed.waiting) {
    d = observed.waiting.impossible
      ? { phase: 'failed', reason: 'ExceedsQuota', message: observed.waiting.message }
      : { phase: 'queued', reason: 'WaitingForQuota', message: observed.waiting.message };
  } else if (observed.job) d = fromJob(observed.job, observed, attempts, limit);
  else if (observed.deployment) d = fromDeployment(observed.deployment, observed);
  else d = { phase: 'created', reason: 'Admitted', message: 'admitted; creating its workload' };

  const final = FINAL_PHASES.has(d.phase);
  const running = d.phase === 'running';
  const scheduledPod = observed.pods.some((p) => p.spec?.nodeName);
  const prev = old.conditions ?? [];
  const conditions: Condition[] = [
    observed.waiting
      ? condition(prev, now, 'Admitted', false, 'WaitingForQuota', observed.waiting.message)
      : condition(
          prev,
          now,
          'Admitted',
          !observed.invalid,
          observed.invalid ? observed.invalid.reason : 'QuotaAvailable',
          observed.invalid ? observed.invalid.message : 'within the team quota',
        ),
    d.phase === 'unschedulable'
      ? condition(prev, now, 'Scheduled', false, d.reason, d.message)
      : condition(
          prev,
          now,
          'Scheduled',
          scheduledPod,
          scheduledPod ? 'Scheduled' : 'NotScheduled',
          scheduledPod ? 'a pod is on a node' : 'no pod is on a node',
        ),
    condition(
      prev,
      now,
      'Running',
      running,
      running ? 'Running' : d.reason,
      running ? d.message : `not running: ${d.message}`,
    ),
    condition(
      prev,
      now,
      'Finished',
      final,
      final ? d.reason : 'NotFinished',
      final ? d.message : 'the run has not finished',
    ),
    // Unknown until the end, so that `kubectl wait --for=condition=Succeeded=false` waits for a
    // failure as `--for=condition=Succeeded` waits for a success.
    condition(
      prev,
      now,
      'Succeeded',
      final ? d.phase === 'succeeded' : 'Unknown',
      final ? d.reason : 'NotFinished',
      final ? d.message : 'the run has not finished',
    ),
  ];

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
    url: observed.url,
  };
}
