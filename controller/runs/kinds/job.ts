import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { newestFirst } from '../pod-order.js';
import { JOBS } from '../../api/children.js';
import { REASON } from '../../api/reasons.js';
import { sectionOf } from '../../api/run.js';
import { diagnosePod, terminationSummary, type Diagnosis } from '../diagnosis.js';
import { childMetadata, gpusPerPod, runPodTemplate } from '../pod-template.js';
import type { RunKind, WorkloadObservation, WorkloadState } from './run-kind.js';

/** A job run: one container to completion, as one batch/v1 Job whose termination comes from the run. */
export const jobKind: RunKind<'job'> = {
  name: 'job',
  children: [JOBS],
  updates: 'never',

  desired(run, { defaults, team, pool, outputsSource, tracking }) {
    const section = sectionOf(run.spec, 'job');
    const termination = section.termination ?? {};
    const job: V1Job = {
      apiVersion: JOBS.apiVersion,
      kind: JOBS.kind,
      metadata: childMetadata(run, team.team),
      spec: {
        backoffLimit: termination.maxRetries ?? 0,
        activeDeadlineSeconds: termination.timeout,
        ttlSecondsAfterFinished: termination.ttl,
        template: runPodTemplate(run, section, {
          defaults,
          team,
          pool,
          restartPolicy: 'Never',
          outputsSource,
          tracking,
        }),
      },
    };
    return [job];
  },

  observe(_run, observed) {
    const job = observed.children.get(JOBS.kind) as V1Job | undefined;
    if (!job) {
      return {
        diagnosis: { phase: 'created', reason: REASON.Admitted, message: 'admitted; creating its Job' },
        attempts: observed.pods.length,
      };
    }
    return jobState(job, observed);
  },

  gpus: (run) => gpusPerPod(sectionOf(run.spec, 'job')),
};

function jobCondition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function newestPod(pods: readonly V1Pod[]): V1Pod | undefined {
  return newestFirst(pods)[0];
}

/** Pods the Job has had: a pod that just ended sits in uncountedTerminatedPods until it is counted. */
function attemptsOf(job: V1Job): number {
  const counts = job.status;
  const uncounted = counts?.uncountedTerminatedPods;
  return (
    (counts?.failed ?? 0) +
    (counts?.succeeded ?? 0) +
    (counts?.active ?? 0) +
    (uncounted?.failed?.length ?? 0) +
    (uncounted?.succeeded?.length ?? 0)
  );
}

/** The Job controller made no pod yet: only then does a FailedCreate event explain anything. */
function podless(job: V1Job, pods: readonly V1Pod[]): boolean {
  return !(job.status?.active || job.status?.succeeded || job.status?.failed || pods.length > 0);
}

export function jobState(job: V1Job, observed: WorkloadObservation): WorkloadState {
  const attempts = attemptsOf(job);
  return { diagnosis: jobDiagnosis(job, observed, attempts), attempts };
}

function jobDiagnosis(job: V1Job, observed: WorkloadObservation, attempts: number): Diagnosis {
  const { pods } = observed;
  const limit = job.spec?.backoffLimit ?? 0;
  if (jobCondition(job, 'Complete'))
    return { phase: 'succeeded', reason: REASON.Completed, message: `succeeded after ${attempts} attempt(s)` };
  const failed = jobCondition(job, 'Failed');
  if (failed) {
    const lastFailure = pods.map(terminationSummary).find((t) => t !== undefined);
    const cause =
      failed.reason === REASON.DeadlineExceeded
        ? 'the run exceeded its timeout'
        : lastFailure
          ? lastFailure.message
          : (failed.message ?? 'the job failed');
    return {
      phase: 'failed',
      reason: lastFailure?.reason ?? failed.reason ?? REASON.Failed,
      message: `failed after ${attempts} attempt(s): ${cause}`,
    };
  }
  const live = pods.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''));
  const current = newestPod(live);
  if (!current) {
    const failedCreate = podless(job, pods) ? observed.failedCreate : undefined;
    if (failedCreate) {
      const quota = failedCreate.includes('exceeded quota');
      return {
        phase: 'warning',
        reason: quota ? REASON.QuotaExceeded : REASON.FailedCreate,
        message: `cannot create the pod: ${failedCreate}`,
      };
    }
    // The Job controller records a pod's success a moment after the pod ends: the run is not
    // back to waiting for a pod, it is finishing.
    if (pods.some((p) => p.status?.phase === 'Succeeded')) {
      return { phase: 'running', reason: REASON.Completing, message: 'the pod succeeded; the Job is recording it' };
    }
    return { phase: 'created', reason: REASON.WorkloadCreated, message: 'the Job exists; waiting for its pod' };
  }
  const diagnosis = diagnosePod(current, observed.nodes, observed.podEventsOf?.(current));
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
      reason: REASON.Retrying,
      message: `attempt ${attempts} of ${limit + 1}; the previous one failed: ${previous?.message ?? 'unknown cause'}`,
    };
  }
  return diagnosis;
}
