import { describe, expect, it } from 'vitest';
import { RUN_API_VERSION, RUN_KIND, type Run, type RunPhase } from '../../../controller/api/run.js';
import { retentionDecision } from '../../../controller/retention/run-retention.js';

const HOUR = 3600_000;
const RETENTION = 24 * HOUR;
const FINISHED = Date.parse('2026-03-01T12:00:00Z');

function run(phase: RunPhase, metadata: Record<string, unknown> = {}, finishedAt?: number): Run {
  return {
    apiVersion: RUN_API_VERSION,
    kind: RUN_KIND,
    metadata: { name: 'r', namespace: 'plinth-vision', uid: 'u1', ...metadata },
    spec: { kind: 'job', job: { container: { image: 'x:1' } } },
    status: { phase, ...(finishedAt === undefined ? {} : { finishedAt: new Date(finishedAt).toISOString() }) },
  };
}
const decide = (r: Run, now: number) => retentionDecision(r, RETENTION, now);

describe('which finished runs the retention deletes, and when', () => {
  it.each(['succeeded', 'failed', 'stopped'] as const)('deletes a %s run once the retention has passed', (phase) => {
    expect(decide(run(phase, {}, FINISHED), FINISHED + RETENTION)).toEqual({ kind: 'delete' });
    expect(decide(run(phase, {}, FINISHED), FINISHED + RETENTION + HOUR)).toEqual({ kind: 'delete' });
  });

  it('waits until finishedAt plus the retention, however often it is asked', () => {
    expect(decide(run('succeeded', {}, FINISHED), FINISHED)).toEqual({ kind: 'wait', ms: RETENTION });
    expect(decide(run('succeeded', {}, FINISHED), FINISHED + RETENTION - 1)).toEqual({ kind: 'wait', ms: 1 });
  });

  it.each(['created', 'queued', 'running', 'retrying', 'unschedulable', 'warning'] as const)(
    'keeps a %s run, however old',
    (phase) => {
      expect(decide(run(phase), FINISHED + 100 * RETENTION)).toEqual({ kind: 'keep' });
    },
  );

  it('keeps a run another object controls, which goes with its parent, but not a run that merely lists an owner', () => {
    const owner = { apiVersion: RUN_API_VERSION, kind: RUN_KIND, name: 'sweep', uid: 'p1' };
    const child = run('succeeded', { ownerReferences: [{ ...owner, controller: true }] }, FINISHED);
    expect(decide(child, FINISHED + 2 * RETENTION)).toEqual({ kind: 'keep' });
    const referencing = run('succeeded', { ownerReferences: [{ ...owner, controller: false }] }, FINISHED);
    expect(decide(referencing, FINISHED + 2 * RETENTION)).toEqual({ kind: 'delete' });
  });

  it('keeps a run already being deleted, and a finished run without finishedAt', () => {
    const deleting = run('failed', { deletionTimestamp: '2026-03-03T00:00:00Z' }, FINISHED);
    expect(decide(deleting, FINISHED + 2 * RETENTION)).toEqual({ kind: 'keep' });
    expect(decide(run('failed'), FINISHED + 2 * RETENTION)).toEqual({ kind: 'keep' });
  });
});
