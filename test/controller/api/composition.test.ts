import { describe, expect, it } from 'vitest';
import { isParentRun, listedKind, reconcilerOf } from '../../../controller/api/composition.js';
import type { RunSpec } from '../../../controller/api/run.js';

const job = { container: { image: 'x:1' } };
const matrix: RunSpec['matrix'] = { kind: 'grid' };
const schedule: RunSpec['schedule'] = { kind: 'interval', frequency: 60 };
const dag: RunSpec['dag'] = { operations: [{ name: 'op', template: { kind: 'job', job } }] };

describe('which reconciler handles a run', () => {
  it.each<[string, RunSpec, string, string]>([
    ['a job', { kind: 'job', job }, 'leaf', 'job'],
    ['a service', { kind: 'service', service: { ...job, ports: [{ port: 80 }] } }, 'leaf', 'service'],
    ['a swept job', { kind: 'job', job, matrix }, 'sweep', 'job+matrix'],
    ['a dag', { kind: 'dag', dag }, 'dag', 'dag'],
    ['a scheduled job', { kind: 'job', job, schedule }, 'schedule', 'job+schedule'],
    [
      'a scheduled sweep: the schedule wraps the matrix',
      { kind: 'job', job, matrix, schedule },
      'schedule',
      'job+matrix+schedule',
    ],
    ['a scheduled dag', { kind: 'dag', dag, schedule }, 'schedule', 'dag+schedule'],
  ])('%s', (_, spec, reconciler, listed) => {
    expect(reconcilerOf(spec)).toBe(reconciler);
    expect(isParentRun(spec)).toBe(reconciler !== 'leaf');
    expect(listedKind(spec)).toBe(listed);
  });
});
