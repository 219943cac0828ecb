import type { LeafKindName, Run, RunSpec } from './run.js';

/**
 * Which reconciler handles a run, decided once for every composite kind to come. A run is handled
 * by exactly one, chosen in this order: a schedule wraps anything, so it is asked first; a matrix
 * wraps a leaf kind; a dag's operations are child runs; anything else is a leaf run, whose pods
 * the Run reconciler makes through the kind registry. Each composite reconciler makes child Runs,
 * which the Run reconciler then admits like any other.
 */
export const RUN_RECONCILERS = ['schedule', 'sweep', 'dag', 'leaf'] as const;
export type RunReconcilerName = (typeof RUN_RECONCILERS)[number];

export function reconcilerOf(spec: Pick<RunSpec, 'kind' | 'matrix' | 'schedule'>): RunReconcilerName {
  if (spec.schedule) return 'schedule';
  if (spec.matrix) return 'sweep';
  if (spec.kind === 'dag') return 'dag';
  return 'leaf';
}

/** A run whose children are runs: it holds no pods of its own and counts no quota. */
export const isParentRun = (spec: Pick<RunSpec, 'kind' | 'matrix' | 'schedule'>): boolean =>
  reconcilerOf(spec) !== 'leaf';

/** The run as `kubectl get runs` lists it (status.kind): its kind, then the sections wrapping it. */
export function listedKind(spec: Pick<RunSpec, 'kind' | 'matrix' | 'schedule'>): string {
  return [spec.kind, ...(spec.matrix ? ['matrix'] : []), ...(spec.schedule ? ['schedule'] : [])].join('+');
}

/** A run the Run reconciler makes pods for: a leaf kind, neither swept nor scheduled. */
export type LeafRun = Run & { spec: { kind: LeafKindName } };

/** Whether a run, whole or as a cache keeps it, is a leaf run. */
export const isLeafRun = <R extends { spec: Pick<RunSpec, 'kind' | 'matrix' | 'schedule'> }>(
  run: R,
): run is R & { spec: { kind: LeafKindName } } => reconcilerOf(run.spec) === 'leaf';
