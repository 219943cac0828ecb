import type { OutputsSource } from '../outputs-source.js';
import type { KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ManagedResource } from '../../api/children.js';
import type { PlatformDefaults, TeamDefaults } from '../../api/platform-defaults.js';
import type { LeafKindName, RunTracking } from '../../api/run.js';
import type { LeafRun } from '../../api/composition.js';
import type { LeafRunSummary } from '../cached-run.js';
import type { Diagnosis, PodEventsOf } from '../diagnosis.js';

/** What a kind needs to know of the platform and the run's team to say what the run becomes. */
export interface KindContext {
  readonly defaults: PlatformDefaults;
  readonly team: TeamDefaults;
  /** The pool the run goes to: spec.pool, or its team's default (effective-pool.ts). */
  readonly pool: string;
  /** The earlier run whose outputs the run starts with (spec.resumeFrom, spec.copyFrom), resolved. */
  readonly outputsSource?: OutputsSource;
  /** The run's MLflow run, where it was made before the workload (controller/tracking/). */
  readonly tracking?: RunTracking;
}

/** What the reconciler observed of an admitted run's workload, from its caches. */
export interface WorkloadObservation {
  /** The run's children as the caches hold them, by kind (`Job`, `Service`, ...). */
  readonly children: ReadonlyMap<string, KubernetesObject>;
  readonly pods: readonly V1Pod[];
  readonly nodes: readonly V1Node[];
  readonly podEventsOf?: PodEventsOf;
  /** The latest message of a FailedCreate event on the run's primary child, e.g. a quota refusal. */
  readonly failedCreate?: string;
}

/** How an admitted run's workload is doing. */
export interface WorkloadState {
  readonly diagnosis: Diagnosis;
  /** Pods the workload has had, retries included. */
  readonly attempts: number;
  /** Where the run is served, for kinds that serve. */
  readonly url?: string;
}

/**
 * One run kind: what a run of it becomes and how that is read back. The Run reconciler knows no
 * kind: it admits the run, applies `desired`, and writes the status `observe` derives, for every
 * kind alike. Adding a leaf kind is a file of its own here and one line in the registry.
 */
export interface RunKind<K extends LeafKindName = LeafKindName> {
  readonly name: K;
  /**
   * The resources its children are, primary first: the primary's status says how the run goes, and
   * it is applied after the others, so that a reconcile cut short applies them all again.
   */
  readonly children: readonly [ManagedResource, ...ManagedResource[]];
  /**
   * `never`: the children are made once and never updated (a Job's pod template is immutable, so a
   * job run's spec is frozen too). `on-change`: they follow the run's spec, compared by a hash.
   */
  readonly updates: 'never' | 'on-change';
  /**
   * The children the run should have now, one per resource in `children` at most, primary first:
   * from the whole run, which a summary in the cache (cached-run.ts) is not.
   */
  desired(run: LeafRun, context: KindContext): KubernetesObject[];
  /** How the workload is doing, from its children and pods, and what the cache keeps of the run. */
  observe(run: LeafRunSummary, observed: WorkloadObservation, context: KindContext): WorkloadState;
  /** GPUs the run holds while admitted, counted against its team's quota, from what the cache keeps. */
  gpus(run: LeafRunSummary): number;
}
