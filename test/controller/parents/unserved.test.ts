import { describe, expect, it } from 'vitest';
import { REASON } from '../../../controller/api/reasons.js';
import type { Run, RunSpec } from '../../../controller/api/run.js';
import { notServed } from '../../../controller/parents/unserved.js';

const run = (spec: RunSpec): Run => ({
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'r', namespace: 'plinth-vision' },
  spec,
});
const job = { container: { image: 'x:1' } };

describe('a parent run on a controller that does not run parents yet', () => {
  it('fails as NotSupported, naming the section that makes it a parent', () => {
    expect(notServed(run({ kind: 'job', job, matrix: { kind: 'random' } }))).toEqual({
      reason: REASON.NotSupported,
      message: expect.stringContaining('a sweep (spec.matrix)') as string,
    });
    expect(notServed(run({ kind: 'dag', dag: { operations: [] } }))?.message).toContain('a DAG (kind: dag)');
    const scheduledDag = run({
      kind: 'dag',
      dag: { operations: [] },
      schedule: { kind: 'datetime', startAt: '2027-01-01T00:00:00Z' },
    });
    expect(notServed(scheduledDag)?.message).toContain('a schedule (spec.schedule)');
  });

  it('leaves a leaf run to the Run reconciler', () => {
    expect(notServed(run({ kind: 'job', job }))).toBeUndefined();
  });
});
