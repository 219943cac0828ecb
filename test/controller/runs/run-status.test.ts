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
