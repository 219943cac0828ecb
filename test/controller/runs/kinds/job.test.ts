import { describe, expect, it } from 'vitest';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { LeafRun } from '../../../../controller/api/composition.js';
import type { JobSection } from '../../../../controller/api/run.js';
import { jobKind } from '../../../../controller/runs/kinds/job.js';
import { runDefaultsOf } from '../../../support/platform.js';

const defaults = runDefaultsOf('local');
const context = { defaults, team: defaults.teams['plinth-vision']!, pool: 'cpu' };

/** A job run of team vision, with `job` in its job section. */
const run = (job: Partial<JobSection> = {}): LeafRun => ({
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'train', namespace: 'plinth-vision', uid: 'u1' },
  spec: { kind: 'job', pool: 'cpu', job: { container: { image: 'x:1' }, ...job } },
});
const job = (status: V1Job['status'] = {}, backoffLimit = 0): V1Job => ({
  metadata: { name: 'train' },
  spec: { backoffLimit, template: {} },
  status,
});
const failedPod = (name: string, exitCode: number): V1Pod => ({
  metadata: { name, creationTimestamp: new Date('2026-01-01T00:00:00Z') },
  spec: { containers: [], nodeName: 'cpu-0' },
  status: {
    phase: 'Failed',
    containerStatuses: [
      {
        name: 'main',
        image: 'x:1',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode, reason: 'Error' } },
      },
    ],
  },
});
const pendingPod: V1Pod = {
  metadata: { name: 'train-2', creationTimestamp: new Date('2026-01-01T00:00:10Z') },
  spec: { containers: [] },
  status: { phase: 'Pending' },
};

const observe = (j: V1Job | undefined, pods: V1Pod[] = [], failedCreate?: string) =>
  jobKind.observe(run(), { children: new Map(j ? [['Job', j]] : []), pods, nodes: [], failedCreate }, context);

describe('the job kind', () => {
  it('wants one Job, named and owned by its run, that is never updated', () => {
    const [only, ...rest] = jobKind.desired(run({ termination: { maxRetries: 2 } }), context);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      kind: 'Job',
      metadata: { name: 'train', namespace: 'plinth-vision', ownerReferences: [{ kind: 'Run', name: 'train' }] },
      spec: { backoffLimit: 2 },
    });
    expect(jobKind.updates).toBe('never');
  });

  it("counts one pod's GPUs, the largest of its containers'", () => {
    const gpus = (main: string, init: string) =>
      jobKind.gpus(
        run({
          container: { image: 'x:1', resources: { limits: { 'nvidia.com/gpu': main } } },
          init: [{ image: 'y:1', resources: { requests: { 'nvidia.com/gpu': init } } }],
        }),
      );
    expect(gpus('2', '1')).toBe(2);
    expect(gpus('1', '4')).toBe(4);
    // Read as Kubernetes reads quantities: a GPU written 1000m still counts against the quota.
    expect(gpus('1000m', '0')).toBe(1);
    expect(gpus('2', '3000m')).toBe(3);
  });

  it('explains a Job without a pod by its FailedCreate event, and only then', () => {
    const quota = 'pods "train-x" is forbidden: exceeded quota: team-quota';
    expect(observe(job(), [], quota).diagnosis).toMatchObject({ phase: 'warning', reason: 'QuotaExceeded' });
    expect(observe(job(), [], 'some other failure').diagnosis).toMatchObject({ reason: 'FailedCreate' });
    // Once the Job has had a pod, an old FailedCreate event no longer explains it.
    expect(observe(job({ failed: 1 }), [failedPod('train-1', 3)], quota).diagnosis.reason).not.toBe('QuotaExceeded');
  });

  it('retries a failed pod within backoffLimit, naming the last failure and counting attempts', () => {
    const state = observe(job({ failed: 1, active: 1 }, 2), [failedPod('train-1', 3), pendingPod]);
    expect(state.attempts).toBe(2);
    expect(state.diagnosis).toMatchObject({ phase: 'retrying', reason: 'Retrying' });
    expect(state.diagnosis.message).toContain('attempt 2 of 3');
    expect(state.diagnosis.message).toContain('exited with code 3');
  });

  it('fails with the exit code of the last pod once the Job has failed', () => {
    const failed = job({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] });
    expect(observe(failed, [failedPod('train-1', 3)]).diagnosis).toMatchObject({
      phase: 'failed',
      reason: 'Error',
      message: 'failed after 1 attempt(s): container main exited with code 3 (Error)',
    });
  });
});
