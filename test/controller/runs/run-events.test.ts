import { describe, expect, it } from 'vitest';
import { RUN_PHASES, type Run, type RunStatus } from '../../../controller/api/run.js';
import { REPORTING_CONTROLLER, runEvent } from '../../../controller/runs/run-events.js';

const run: Run = {
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'train', namespace: 'plinth-vision', uid: 'u1' },
  spec: { kind: 'job', pool: 'cpu', job: { container: { image: 'x:1' } } },
};
const status = (phase: RunStatus['phase'], reason: string, message = `${reason} message`): RunStatus => ({
  phase,
  reason,
  message,
});

describe('runEvent', () => {
  it('tells of a new phase, about the run, with the status’s reason and message', () => {
    expect(
      runEvent(run, { phase: 'created' }, status('queued', 'WaitingForQuota', 'team vision uses 16/16 GPUs')),
    ).toEqual({
      regarding: {
        apiVersion: 'plinth.dev/v1alpha1',
        kind: 'Run',
        name: 'train',
        namespace: 'plinth-vision',
        uid: 'u1',
      },
      type: 'Normal',
      reason: 'WaitingForQuota',
      action: 'queued',
      note: 'team vision uses 16/16 GPUs',
    });
    expect(runEvent(run, undefined, status('running', 'Running'))?.reason).toBe('Running');
  });

  it('tells of a new diagnosis within the same phase', () => {
    const before = status('unschedulable', 'InsufficientGPU');
    expect(runEvent(run, before, status('unschedulable', 'UntoleratedTaint'))).toMatchObject({
      type: 'Warning',
      reason: 'UntoleratedTaint',
    });
  });

  it('stays silent when only the message changes, as counters do', () => {
    const before = status(
      'warning',
      'CrashLoopBackOff',
      'container main keeps crashing (exit code 1); restarted 3 times',
    );
    const after = status(
      'warning',
      'CrashLoopBackOff',
      'container main keeps crashing (exit code 1); restarted 4 times',
    );
    expect(runEvent(run, before, after)).toBeUndefined();
    expect(runEvent(run, after, { ...after, attempts: 2 })).toBeUndefined();
  });

  it('warns of the phases that need a person, and only of those', () => {
    const types = Object.fromEntries(
      RUN_PHASES.map((phase) => [phase, runEvent(run, undefined, status(phase, 'Reason'))?.type]),
    );
    expect(
      Object.entries(types)
        .filter(([, type]) => type === 'Warning')
        .map(([phase]) => phase),
    ).toEqual(['failed', 'retrying', 'unschedulable', 'warning']);
    expect(Object.values(types).every((type) => type === 'Warning' || type === 'Normal')).toBe(true);
  });

  it('is recorded by the plinth.dev controller', () => {
    expect(REPORTING_CONTROLLER).toBe('plinth.dev/controller');
  });
});
