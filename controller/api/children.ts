import { RUN_API_VERSION, RUN_KIND, RUN_PLURAL } from './run.js';

/**
 * Every resource the controller touches, and what it does with each: its informers, the kinds it
 * applies and deletes, and its ClusterRole all derive from this one list, so a resource a run kind
 * starts to make is watched and permitted by adding it here, and a verb nobody uses is never granted.
 */

/** What the controller does with a resource; each maps to the RBAC verbs it needs (VERBS). */
export type ResourceUse = 'watch' | 'read' | 'apply' | 'delete' | 'write-status' | 'record' | 'release' | 'read-logs';

export interface ManagedResource {
  readonly kind: string;
  readonly apiVersion: string;
  /** The REST resource name. */
  readonly plural: string;
  readonly uses: readonly ResourceUse[];
  /**
   * When its informer starts: with the controller, or with the first run of a kind that makes it
   * (a platform that runs only jobs then holds no watch on Services or Ingresses).
   */
  readonly watchFrom?: 'start' | 'first-use';
}

/**
 * The RBAC verbs each use needs. Server-side apply is a patch, but the API server also authorizes
 * `create` when the object does not exist yet: without it, a run's first Job is refused (403).
 */
export const VERBS: Readonly<Record<ResourceUse, readonly string[]>> = {
  watch: ['list', 'watch'],
  // One object past the cache: a run whose cache keeps only a summary (runs/cached-run.ts).
  read: ['get'],
  apply: ['create', 'patch'],
  delete: ['delete'],
  'write-status': ['patch'],
  // An Event is created, then patched to count a repeat (runtime/event-recorder.ts).
  record: ['create', 'patch'],
  // A pod's logs finalizer is taken off once its logs are archived (controller/logs/).
  release: ['patch'],
  // The pods/log subresource, which the archiver follows.
  'read-logs': ['get'],
};

export const RUNS: ManagedResource = {
  kind: RUN_KIND,
  apiVersion: RUN_API_VERSION,
  plural: RUN_PLURAL,
  // Read whole when a large run's cached summary must become a workload (controller/runs/cached-run.ts);
  // deleted once finished for longer than the platform's retention (controller/retention/).
  uses: ['watch', 'read', 'write-status', 'delete'],
  watchFrom: 'start',
};

/** A child run kinds make, labelled with its run and owned by it: watched, applied, deleted. */
const child = (
  kind: string,
  apiVersion: string,
  plural: string,
  watchFrom: ManagedResource['watchFrom'],
): ManagedResource => ({ kind, apiVersion, plural, uses: ['watch', 'apply', 'delete'], watchFrom });

export const JOBS = child('Job', 'batch/v1', 'jobs', 'start');
export const DEPLOYMENTS = child('Deployment', 'apps/v1', 'deployments', 'start');
export const SERVICES = child('Service', 'v1', 'services', 'first-use');
export const INGRESSES = child('Ingress', 'networking.k8s.io/v1', 'ingresses', 'first-use');

/**
 * What the controller reads to explain a run: its pods, the nodes, and the events of both. It also
 * archives the pods' logs and then takes their logs finalizer off; the logs API, which every
 * replica serves, leader or not (and so without the leader's caches), reads one pod at a time.
 */
export const PODS: ManagedResource = {
  kind: 'Pod',
  apiVersion: 'v1',
  plural: 'pods',
  uses: ['watch', 'read', 'release', 'read-logs'],
};
export const NODES: ManagedResource = { kind: 'Node', apiVersion: 'v1', plural: 'nodes', uses: ['watch'] };
export const EVENTS: ManagedResource = { kind: 'Event', apiVersion: 'v1', plural: 'events', uses: ['watch'] };
/** Events the controller records on runs, for `kubectl describe run`. */
export const RECORDED_EVENTS: ManagedResource = {
  kind: 'Event',
  apiVersion: 'events.k8s.io/v1',
  plural: 'events',
  uses: ['record'],
};

/** Every child a run kind may make, in no particular order. */
export const RUN_CHILDREN: readonly ManagedResource[] = [JOBS, DEPLOYMENTS, SERVICES, INGRESSES];

/** The REST resource of each child kind, for the writer that applies and deletes them. */
export const CHILD_PLURALS: ReadonlyMap<string, string> = new Map(RUN_CHILDREN.map((r) => [r.kind, r.plural]));

export const MANAGED_RESOURCES: readonly ManagedResource[] = [
  RUNS,
  ...RUN_CHILDREN,
  PODS,
  NODES,
  EVENTS,
  RECORDED_EVENTS,
];

/** The API group of an apiVersion: `batch/v1` is in `batch`, `v1` in the core group (''). */
export const groupOf = (apiVersion: string): string =>
  apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';

/** The REST path of every object of a resource, cluster-wide. */
export const collectionPath = (r: ManagedResource): string =>
  `${r.apiVersion.includes('/') ? '/apis' : '/api'}/${r.apiVersion}/${r.plural}`;

export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/** The REST resource a use acts on: a status writer's and a log reader's are subresources. */
export function resourceOfUse(r: ManagedResource, use: ResourceUse): string {
  if (use === 'write-status') return `${r.plural}/status`;
  if (use === 'read-logs') return `${r.plural}/log`;
  return r.plural;
}

/**
 * The controller's ClusterRole rules: per resource, the verbs its uses need, with a status writer's
 * on the status subresource only and a log reader's on the log subresource only.
 */
export function controllerRules(resources: readonly ManagedResource[] = MANAGED_RESOURCES): PolicyRule[] {
  const rules = new Map<string, { group: string; resource: string; verbs: Set<string> }>();
  for (const r of resources) {
    for (const use of r.uses) {
      const resource = resourceOfUse(r, use);
      const key = `${groupOf(r.apiVersion)}/${resource}`;
      const rule = rules.get(key) ?? { group: groupOf(r.apiVersion), resource, verbs: new Set<string>() };
      VERBS[use].forEach((v) => rule.verbs.add(v));
      rules.set(key, rule);
    }
  }
  return [...rules.values()].map((r) => ({ apiGroups: [r.group], resources: [r.resource], verbs: [...r.verbs] }));
}
