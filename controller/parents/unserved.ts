import { reconcilerOf, type RunReconcilerName } from '../api/composition.js';
import { REASON } from '../api/reasons.js';
import type { RunSpec } from '../api/run.js';
import type { Invalidity } from '../runs/run-validity.js';

/** What each composite section is called for a person, by the reconciler that would handle it. */
const WHAT: Readonly<Record<Exclude<RunReconcilerName, 'leaf'>, string>> = {
  schedule: 'a schedule (spec.schedule)',
  sweep: 'a sweep (spec.matrix)',
  dag: 'a DAG (kind: dag)',
};

/**
 * Why a parent run cannot run on this version of the controller. The API takes sweeps, DAGs and
 * schedules so that their shape is settled and checked at apply time; their reconcilers come later,
 * and until then such a run fails at once, saying so, rather than sitting in created.
 */
export function notServed(run: { spec: Pick<RunSpec, 'kind' | 'matrix' | 'schedule'> }): Invalidity | undefined {
  const reconciler = reconcilerOf(run.spec);
  if (reconciler === 'leaf') return undefined;
  return {
    reason: REASON.NotSupported,
    message: `this run is ${WHAT[reconciler]}, which this version of the controller does not run yet; submit its template as a run of its own instead`,
  };
}
