import { describe, expect, it } from 'vitest';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { jobState } from '../../../controller/runs/kinds/job.js';
import { deriveStatus, type Observation } from '../../../controller/runs/run-status.js';

const job = (status: V1Job['status'] = {}): V1Job => ({
  metadata: { name: 'train' },
  spec: { backoffLimit: 0, template: {} },
  status,
});
const pod = (phase: string, nodeName?: string): V1Pod => ({
  metadata: { name: `train-${phase}`, creationTimestamp: new Date('2026-01-01T00:00:00Z') },
  spec: { containers: [], nodeName },
  status: {
    phase,
    startTime: new Date('2026-01-01T00:00:01Z'),
    conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }],
  },
});
/** What the reconciler observes of a job run whose Job and pods are these. */
const observe = ({ job, pods = [], ...o }: Partial<Observation> & { job?: V1Job }): Observation => ({
  now: new Date(),
  generation: 1,
  pods,
  workload: job && jobState(job, { children: new Map(), pods, nodes: [] }),
  ...o,
});

describe('deriveStatus of a job run', () => {
  it('waits for its pod while the Job has none', () => {
    expect(deriveStatus(undefined, observe({ job: job() }))).toMatchObject({
      phase: 'created',
      reason: 'WorkloadCreated',
    });
  });

  it('stays running, not back to waiting, between its pod succeeding and the Job recording it', () => {
    const running = deriveStatus(undefined, observe({ job: job({ active: 1 }), pods: [pod('Running', 'cpu-0')] }));
    expect(running.phase).toBe('running');
    const finishing = deriveStatus(running, observe({ job: job(), pods: [pod('Succeeded', 'cpu-0')] }));
    expect(finishing).toMatchObject({ phase: 'running', reason: 'Completing' });
    expect(finishing.startedAt).toBe(running.startedAt);
  });

  it('counts a pod the Job controller has not yet counted, so attempts never go back', () => {
    const running = deriveStatus(undefined, observe({ job: job({ active: 1 }), pods: [pod('Running', 'cpu-0')] }));
    expect(running.attempts).toBe(1);
    const recording = deriveStatus(
      running,
      observe({ job: job({ uncountedTerminatedPods: { succeeded: ['uid-1'] } }), pods: [pod('Succeeded', 'cpu-0')] }),
    );
    expect(recording.attempts).toBe(1);
    const stopped = deriveStatus(recording, observe({ stopping: { podsLeft: 0 } }));
    expect(stopped).toMatchObject({ phase: 'stopped', attempts: 1 });
  });

  it('succeeds once the Job is Complete', () => {
    const done = deriveStatus(
      undefined,
      observe({
        job: job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }),
        pods: [pod('Succeeded', 'cpu-0')],
      }),
    );
    expect(done).toMatchObject({ phase: 'succeeded', reason: 'Completed' });
    expect(done.finishedAt).toBeDefined();
  });
});

describe('the Succeeded condition, for kubectl wait', () => {
  const succeededOf = (status: ReturnType<typeof deriveStatus>) =>
    status.conditions?.find((c) => c.type === 'Succeeded');

  it.each([
    {
      run: 'a running job',
      observed: observe({ job: job({ active: 1 }), pods: [pod('Running', 'cpu-0')] }),
      want: { status: 'Unknown', reason: 'NotFinished', message: 'the run has not finished' },
    },
    {
      run: 'a queued run',
      observed: observe({ waiting: { message: 'waiting for quota: team vision uses 4/4 runs' } }),
      want: { status: 'Unknown', reason: 'NotFinished' },
    },
    {
      run: 'a succeeded job',
      observed: observe({
        job: job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }),
        pods: [pod('Succeeded', 'cpu-0')],
      }),
      want: { status: 'True', reason: 'Completed', message: 'succeeded after 1 attempt(s)' },
    },
    {
      run: 'a failed job',
      observed: observe({
        job: job({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] }),
        pods: [
          {
            ...pod('Failed', 'cpu-0'),
            status: {
              phase: 'Failed',
              containerStatuses: [
                {
                  name: 'main',
                  image: 'train',
                  imageID: '',
                  ready: false,
                  restartCount: 0,
                  state: { terminated: { exitCode: 1, reason: 'Error' } },
                },
              ],
            },
          },
        ],
      }),
      want: {
        status: 'False',
        reason: 'Error',
        message: 'failed after 1 attempt(s): container main exited with code 1 (Error)',
      },
    },
    {
      run: 'a stopped run',
      observed: observe({ stopping: { podsLeft: 0 } }),
      want: { status: 'False', reason: 'Stopped', message: 'stopped by request; every pod is gone' },
    },
    {
      run: 'a run that can never start',
      observed: observe({ invalid: { reason: 'PoolNotAllowed', message: 'team vision may not use pool "gpu"' } }),
      want: { status: 'False', reason: 'PoolNotAllowed', message: 'team vision may not use pool "gpu"' },
    },
  ])('is $want.status for $run', ({ observed, want }) => {
    expect(succeededOf(deriveStatus(undefined, observed))).toMatchObject({ type: 'Succeeded', ...want });
  });

  it('keeps its transition time while Unknown, and moves it when the run finishes', () => {
    const started = deriveStatus(
      undefined,
      observe({ now: new Date('2026-01-01T00:00:05Z'), job: job({ active: 1 }), pods: [pod('Running', 'cpu-0')] }),
    );
    const still = deriveStatus(
      started,
      observe({ now: new Date('2026-01-01T00:00:07Z'), job: job({ active: 1 }), pods: [pod('Running', 'cpu-0')] }),
    );
    expect(succeededOf(still)?.lastTransitionTime).toBe('2026-01-01T00:00:05.000Z');
    const done = deriveStatus(
      still,
      observe({
        now: new Date('2026-01-01T00:00:09Z'),
        job: job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }),
        pods: [pod('Succeeded', 'cpu-0')],
      }),
    );
    expect(succeededOf(done)).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:00:09.000Z' });
  });
});

describe('the Tracked condition and status.tracking', () => {
  const linked = { experimentId: '7', runId: 'a1b2', url: 'https://tracking.example.com/#/experiments/7/runs/a1b2' };
  const trackedOf = (status: ReturnType<typeof deriveStatus>) => status.conditions?.find((c) => c.type === 'Tracked');

  it('is absent where the platform tracks nothing', () => {
    const status = deriveStatus(undefined, observe({ job: job({ active: 1 }) }));
    expect(trackedOf(status)).toBeUndefined();
    expect(status.tracking).toBeUndefined();
  });

  it('is True with the MLflow run once it is linked, and kept while nothing new is said', () => {
    const first = deriveStatus(undefined, observe({ job: job({ active: 1 }), tracking: { linked } }));
    expect(first.tracking).toEqual(linked);
    expect(trackedOf(first)).toMatchObject({
      status: 'True',
      reason: 'TrackingLinked',
      message: 'MLflow run a1b2 in experiment 7',
    });
    const later = deriveStatus(first, observe({ job: job({ active: 1 }) }));
    expect(later.tracking).toEqual(linked);
    expect(trackedOf(later)).toEqual(trackedOf(first));
  });

  it('is False with the reason while the tracking server does not answer, and says a late link was late', () => {
    const down = deriveStatus(
      undefined,
      observe({ job: job({ active: 1 }), tracking: { unavailable: 'the tracking server did not answer within 60s' } }),
    );
    expect(down.tracking).toBeUndefined();
    expect(trackedOf(down)).toMatchObject({ status: 'False', reason: 'TrackingUnavailable' });
    const back = deriveStatus(down, observe({ job: job({ active: 1 }), tracking: { linked } }));
    expect(back.tracking).toEqual(linked);
    expect(trackedOf(back)?.status).toBe('True');
    expect(trackedOf(back)?.message).toMatch(/were not given MLFLOW_RUN_ID/);
    // The next reconcile says linked again: the message still says it was late.
    const again = deriveStatus(back, observe({ job: job({ active: 1 }), tracking: { linked } }));
    expect(trackedOf(again)?.message).toBe(trackedOf(back)?.message);
  });
});
