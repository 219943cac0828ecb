import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { GPU_RESOURCE } from '../../model/pools.js';
import { quantityValue } from '../../model/quantity.js';
import { RUNS, collectionPath } from '../api/children.js';
import type {
  JobSection,
  LeafKindName,
  Matrix,
  RUN_API_VERSION,
  RUN_KIND,
  Run,
  RunSpec,
  RunStatus,
  Schedule,
  ServiceSection,
} from '../api/run.js';
import type { InformerKey } from '../runtime/shared-informer.js';
import { isFinalStatus } from './run-status.js';

/**
 * What the shared Run informer keeps of each run, as a cache transform (runtime/cache-trim.ts has
 * those of the children). Teams may store thousands of Runs (a sweep's children all count), each
 * up to the API server's object size, and every controller replica caches all of them: what a
 * cached run costs must not grow with what its author wrote. So the cache keeps of each run only
 * what the controllers read of it, and the types below say what that is: a field they do not list
 * cannot be read from the cache, only from the whole run, which `wholeRun` in the Run controller
 * fetches (a GET) where a workload is built.
 *
 * Three shapes, by what a run still needs, marked by CACHED:
 * - `settled`: a finished run (succeeded, failed, stopped) keeps what classifies it: the Run
 *   reconciler only releases what it held, the parent controller only tells it from a parent.
 * - `summary`: an unfinished run whose spec is larger than WHOLE_SPEC_LIMIT keeps, beside that,
 *   what reconciling it reads before building its workload, and what admitting other runs reads
 *   of it: its pool, connections, the GPUs its pods ask for, a service's replicas and route.
 * - `whole`: any other unfinished run keeps its whole spec, so building its workload needs no GET.
 * Every shape keeps the status whole, and metadata without labels, annotations or managed fields,
 * which nobody reads.
 */
export const CACHED = Symbol('what the Run cache kept of this run');
export type Kept = 'settled' | 'summary' | 'whole';

/**
 * The largest spec, in characters of JSON, that an unfinished run keeps whole. A run written by
 * hand or by the polyaxonfile translator takes a few hundred characters to a few KiB (an image,
 * a command, some args, params and env); 16 KiB keeps every such run on the path without a GET,
 * and holds a cached unfinished run to 16 KiB of spec, whatever the schema allows (a Run may
 * otherwise be as large as etcd stores, 1.5 MiB). Parsed, 2,000 specs of just under 16 KiB (args
 * and params) took 37 MiB of heap: a team's thousands of waiting runs at the limit stay well
 * under the 128 MiB heap of the smallest controller (`local`'s), and a summary takes a few
 * hundred characters.
 */
export const WHOLE_SPEC_LIMIT = 16 * 1024;

/**
 * The longest pool name a summary keeps: a pool is a DNS label. A longer spec.pool names no pool
 * whatever it says, so the summary keeps its start and a mark, which the validity check refuses.
 */
const POOL_NAME_LIMIT = 63;
/** The longest GPU quantity a summary keeps as written; a longer one is kept as its value. */
const QUANTITY_TEXT_LIMIT = 64;

/** The metadata every cached run keeps: its identity, age, and the object that controls it. */
export type CachedRunMetadata = {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  /** Typed as client-node types them, though JSON brings strings: read them through `new Date(String(...))`. */
  creationTimestamp?: V1ObjectMeta['creationTimestamp'];
  deletionTimestamp?: V1ObjectMeta['deletionTimestamp'];
  /** Only the controller's reference: a parent's, for a child run. */
  ownerReferences?: V1OwnerReference[];
};

/** What classifies a run (composition.ts): its kind, and whether a matrix or a schedule wraps it. */
export interface SettledRunSpec {
  readonly kind: RunSpec['kind'];
  readonly matrix?: Pick<Matrix, 'kind'>;
  readonly schedule?: Pick<Schedule, 'kind'>;
}

/** What admission and the choice of pool read of a container: the GPUs it asks for. */
export interface ContainerGpus {
  readonly resources?: {
    readonly requests?: { readonly [GPU_RESOURCE]?: string | number };
    readonly limits?: { readonly [GPU_RESOURCE]?: string | number };
  };
}

/** What a summary keeps of a leaf kind's pods: the GPUs of each container. */
export interface PodGpus {
  readonly container: ContainerGpus;
  readonly init?: readonly ContainerGpus[];
}

/**
 * What reconciling an unfinished run reads of its spec before building its workload: its kind, its
 * pool and connections (validity, placement), whether it was stopped, and per kind the GPUs, a
 * service's replicas (admission) and whether it is served outside (its status URL).
 */
export interface RunSummarySpec extends SettledRunSpec {
  readonly stopped?: boolean;
  readonly pool?: string;
  readonly connections?: readonly string[];
  /** The names the validity check holds against the team's allow-lists, each at most 253 characters. */
  readonly environment?: Pick<NonNullable<RunSpec['environment']>, 'priorityClassName' | 'serviceAccountName'>;
  readonly job?: PodGpus;
  readonly service?: PodGpus & Pick<ServiceSection, 'replicas' | 'isExternal'>;
}

interface CachedFields<Spec> {
  apiVersion: typeof RUN_API_VERSION;
  kind: typeof RUN_KIND;
  metadata: CachedRunMetadata;
  spec: Spec;
  status?: RunStatus;
}

export type SettledRun = CachedFields<SettledRunSpec> & { readonly [CACHED]: 'settled' };
export type ActiveRun = CachedFields<RunSummarySpec> & { readonly [CACHED]: 'summary' | 'whole' };
/** A run as the shared Run informer holds it: which shape, CACHED says. */
export type CachedRun = SettledRun | ActiveRun;
export type CachedLeafRun = CachedRun & { spec: { kind: LeafKindName } };

/**
 * What reconciling an unfinished run may read of it, as the cache holds it or whole (a whole Run
 * is one too). A settled run is not: its pool, connections and GPUs are gone from the cache.
 */
export type RunSummary = Omit<CachedFields<RunSummarySpec>, 'apiVersion' | 'kind'> & {
  readonly [CACHED]?: 'summary' | 'whole';
};
export type LeafRunSummary = RunSummary & { spec: { kind: LeafKindName } };

/** Every controller reads runs through this one informer: the same key is the same cache. */
export const RUN_CACHE: InformerKey<CachedRun> = {
  path: collectionPath(RUNS),
  transform: (object) => keepOf(object as unknown as Run),
};

/** Trims a run in place to what the cache keeps of it, and marks which shape that is. */
function keepOf(run: Run): void {
  const kept = run as unknown as Record<typeof CACHED, Kept> & { metadata: CachedRunMetadata; spec: unknown };
  kept.metadata = keptMetadata(run.metadata as CachedRunMetadata);
  if (isFinalStatus(run.status)) {
    kept.spec = settledSpec(run.spec);
    kept[CACHED] = 'settled';
  } else if (JSON.stringify(run.spec).length > WHOLE_SPEC_LIMIT) {
    kept.spec = summarySpec(run.spec);
    kept[CACHED] = 'summary';
  } else {
    kept[CACHED] = 'whole';
  }
}

function keptMetadata(metadata: CachedRunMetadata): CachedRunMetadata {
  const { name, namespace, uid, generation, resourceVersion, creationTimestamp, deletionTimestamp } = metadata;
  const controller = metadata.ownerReferences?.filter((o) => o.controller);
  return {
    name,
    namespace,
    uid,
    generation,
    resourceVersion,
    creationTimestamp,
    ...(deletionTimestamp ? { deletionTimestamp } : {}),
    ...(controller?.length ? { ownerReferences: controller } : {}),
  };
}

function settledSpec(spec: RunSpec): SettledRunSpec {
  return {
    kind: spec.kind,
    ...(spec.matrix ? { matrix: { kind: spec.matrix.kind } } : {}),
    ...(spec.schedule ? { schedule: { kind: spec.schedule.kind } } : {}),
  };
}

function summarySpec(spec: RunSpec): RunSummarySpec {
  const { stopped, pool, connections, job, service } = spec;
  const { priorityClassName, serviceAccountName } = spec.environment ?? {};
  return {
    ...settledSpec(spec),
    ...(stopped !== undefined ? { stopped } : {}),
    ...(pool !== undefined
      ? { pool: pool.length > POOL_NAME_LIMIT ? `${pool.slice(0, POOL_NAME_LIMIT)}…` : pool }
      : {}),
    ...(connections ? { connections } : {}),
    ...(priorityClassName !== undefined || serviceAccountName !== undefined
      ? {
          environment: {
            ...(priorityClassName !== undefined ? { priorityClassName } : {}),
            ...(serviceAccountName !== undefined ? { serviceAccountName } : {}),
          },
        }
      : {}),
    ...(job ? { job: podGpus(job) } : {}),
    ...(service
      ? {
          service: {
            ...podGpus(service),
            ...(service.replicas !== undefined ? { replicas: service.replicas } : {}),
            ...(service.isExternal !== undefined ? { isExternal: service.isExternal } : {}),
          },
        }
      : {}),
  };
}

function podGpus(pod: Pick<JobSection, 'container' | 'init'>): PodGpus {
  return {
    container: containerGpus(pod.container),
    ...(pod.init ? { init: pod.init.map(containerGpus) } : {}),
  };
}

function containerGpus(container: { resources?: { requests?: object; limits?: object } }): ContainerGpus {
  const gpusIn = (list: object | undefined) => {
    const value = (list as Record<string, string | number> | undefined)?.[GPU_RESOURCE];
    return value === undefined ? undefined : { [GPU_RESOURCE]: boundedQuantity(value) };
  };
  const requests = gpusIn(container.resources?.requests);
  const limits = gpusIn(container.resources?.limits);
  return requests || limits ? { resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } } : {};
}

/**
 * A quantity no longer than any real GPU count is written: a longer one (the CRD bounds only its
 * format) is kept as its value, which is what admission reads of it.
 */
function boundedQuantity(quantity: string | number): string | number {
  if (typeof quantity === 'number' || quantity.length <= QUANTITY_TEXT_LIMIT) return quantity;
  try {
    return quantityValue(quantity);
  } catch {
    // Not a quantity: admission fails on it as it would on the whole run, naming its start.
    return quantity.slice(0, QUANTITY_TEXT_LIMIT);
  }
}
