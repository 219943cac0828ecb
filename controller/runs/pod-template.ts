import { RUN_SCRATCH } from '../../model/run-scratch.js';
import { RUN_OUTPUTS, runOutputsUri } from '../../model/run-outputs.js';
import type {
  V1Container,
  V1ObjectMeta,
  V1OwnerReference,
  V1PodTemplateSpec,
  V1SecurityContext,
  V1Toleration,
} from '@kubernetes/client-node';
import { PLINTH_LABELS, grantsNetworkAccess } from '../../model/labels.js';
import type { RunConnection } from '../../model/connections.js';
import type { PlatformDefaults, TeamDefaults } from '../api/platform-defaults.js';
import { RUN_API_VERSION, RUN_KIND, type PodSection, type Run, type RunTracking } from '../api/run.js';
import { GPU_RESOURCE } from '../../model/pools.js';
import { quantityValue } from '../../model/quantity.js';
import { floorFieldsAt, meetsFloor, requiredValue, securityContextWith, valueAt } from '../../model/security-floor.js';
import type { PodGpus } from './cached-run.js';
import { LOGS_FINALIZER } from '../api/logs.js';
import { networkGate } from './network-gate.js';
import { outputsSync } from './outputs-sync.js';
import { outputsRestore } from './outputs-restore.js';
import type { OutputsSource } from './outputs-source.js';
import { runLabels } from './run-labels.js';
import type { ServiceRoute } from './service-route.js';

/** The run's own container: its status says how the run went, its termination message what it reports. */
export const MAIN_CONTAINER = 'main';

/**
 * Env every run container gets, beside its params and the artifact store's. An external service
 * learns where it is served, since most servers must be told their path prefix.
 */
function platformEnv(run: Run, where: PodPlacement) {
  const { defaults, route, tracking } = where;
  return [
    { name: 'PLINTH_RUN', value: run.metadata.name },
    { name: 'PLINTH_TEAM', value: where.team.team },
    { name: 'MLFLOW_TRACKING_URI', value: defaults.tracking.uri },
    { name: 'MLFLOW_RUN_NAME', value: run.metadata.name },
    // MLflow's client resumes the run MLFLOW_RUN_ID names on `mlflow.start_run()`.
    ...(tracking
      ? [
          { name: 'MLFLOW_RUN_ID', value: tracking.runId },
          { name: 'MLFLOW_EXPERIMENT_ID', value: tracking.experimentId },
        ]
      : []),
    ...(route
      ? [
          { name: 'PLINTH_SERVICE_URL', value: route.url },
          { name: 'PLINTH_SERVICE_PATH', value: route.path },
        ]
      : []),
  ];
}

/**
 * The security floor, whatever the run asked for. Each floor field a container has keeps the
 * run's value where it meets the floor (its own non-root uid, a read-only root filesystem) and
 * takes the floor's otherwise; a field the floor does not list is dropped. The CRD already
 * refuses a run that asks for less (security-floor.ts); this holds whatever reaches the controller.
 */
export function enforceContainerFloor(
  requested: V1SecurityContext | undefined,
  floor: V1SecurityContext,
): V1SecurityContext {
  return securityContextWith(
    floorFieldsAt('container').map((field) => {
      const floorValue = valueAt(floor, field.path);
      const asked = field.replacedOnRuns ? undefined : valueAt(requested, field.path);
      // The floor's one allowed value, where the ConfigMap's falls short of it or, unset, Kubernetes' default would.
      const fallsShort = floorValue !== undefined || field.mustBeSet;
      const candidates = [asked, floorValue, fallsShort ? requiredValue(field.requirement) : undefined];
      return [field, candidates.find((v) => v !== undefined && meetsFloor(field.requirement, v, floorValue))];
    }),
  ) as V1SecurityContext;
}

/** What the platform adds to every container of a run: env, env sources and mounts. */
interface ContainerWiring {
  readonly env: V1Container['env'];
  readonly envFrom: V1Container['envFrom'];
  readonly volumeMounts: V1Container['volumeMounts'];
}

function container(
  spec: Record<string, unknown>,
  name: string,
  wiring: ContainerWiring,
  defaults: PlatformDefaults,
): V1Container {
  const c = spec as unknown as V1Container;
  // The run's own env and env sources come last: where names repeat, Kubernetes uses the last.
  const envFrom = [...(wiring.envFrom ?? []), ...(c.envFrom ?? [])];
  return {
    ...c,
    name: c.name ?? name,
    env: [...(wiring.env ?? []), ...(c.env ?? [])],
    ...(envFrom.length > 0 ? { envFrom } : {}),
    volumeMounts: [...(wiring.volumeMounts ?? []), ...(c.volumeMounts ?? [])],
    securityContext: enforceContainerFloor(c.securityContext, defaults.containerSecurityContext),
  };
}

/** The connections a run names, as the platform defines them now. */
function connectionsOf(run: Run, defaults: PlatformDefaults): RunConnection[] {
  return (run.spec.connections ?? []).map((name) => {
    const connection = defaults.connections[name];
    if (!connection) throw new Error(`connection "${name}" is not a connection of this platform`);
    return connection;
  });
}

function sameToleration(a: V1Toleration, b: V1Toleration): boolean {
  return a.key === b.key && a.value === b.value && a.effect === b.effect && a.operator === b.operator;
}

/** Whether the config mounts the token of `account`, one of the run's team's accounts. */
function tokenMounted(team: TeamDefaults, account: string): boolean {
  return team.serviceAccounts[account]?.mountToken === true;
}

/** Where and how a run's pods run: what the kind and the reconciler decided for them. */
export interface PodPlacement {
  readonly defaults: PlatformDefaults;
  /** The run's team: its artifact-store credential and accounts. */
  readonly team: TeamDefaults;
  /** The effective pool: spec.pool, or the team's default. */
  readonly pool: string;
  readonly restartPolicy: 'Never' | 'Always';
  /** Where an external service is served. */
  readonly route?: ServiceRoute;
  /** The earlier run whose outputs the run starts with. */
  readonly outputsSource?: OutputsSource;
  /** The run's MLflow run, which `mlflow.start_run()` in its code attaches to. */
  readonly tracking?: RunTracking;
}

/**
 * The pod a run becomes: the user's container and environment, with the platform's placement,
 * security floor, artifact store, connections and tracking wiring applied on top.
 */
export function runPodTemplate(run: Run, pod: PodSection, where: PodPlacement): V1PodTemplateSpec {
  const { defaults, restartPolicy, route, outputsSource: source } = where;
  const team = where.team.team;
  // The team's own credential, which reaches only its prefixes of the store.
  const artifacts = where.team.artifacts;
  const environment = run.spec.environment ?? {};
  const pool = defaults.pools[where.pool];
  if (!pool) throw new Error(`pool "${where.pool}" is not a run pool of this platform`);
  const params = (run.spec.params ?? []).map((p) => ({ name: p.name, value: p.value }));
  const connections = connectionsOf(run, defaults);
  // The run's outputs: their URI always, and where the platform copies it there, a path to write to.
  // A resumed run's are the earlier run's.
  const synced = artifacts.outputs.synced;
  const outputsUid = source?.mode === 'resume' ? source.uid : String(run.metadata.uid);
  const outputsEnv = [
    { name: RUN_OUTPUTS.uriEnv, value: runOutputsUri(artifacts.outputs, outputsUid) },
    ...(synced ? [{ name: RUN_OUTPUTS.pathEnv, value: RUN_OUTPUTS.mountPath }] : []),
  ];
  const wiring = {
    env: [...platformEnv(run, where), ...outputsEnv, ...artifacts.env, ...connections.flatMap((c) => c.env), ...params],
    envFrom: connections.flatMap((c) => c.envFrom),
    volumeMounts: [
      { name: RUN_SCRATCH.volume, mountPath: RUN_SCRATCH.mountPath },
      ...(synced ? [{ name: RUN_OUTPUTS.volume, mountPath: RUN_OUTPUTS.mountPath }] : []),
      ...artifacts.volumeMounts,
      ...connections.flatMap((c) => c.volumeMounts),
    ],
  } as ContainerWiring;
  const userTolerations = (environment.tolerations ?? []) as V1Toleration[];
  const account = environment.serviceAccountName;
  // Only a routed run may be reached by the ingress controller, and only a connected one may reach
  // out through its connection (the team's NetworkPolicies): no run may label itself into either.
  // The CRD refuses such labels (RESERVED_POD_KEYS); this holds for runs stored before it did.
  const userLabels = Object.entries(environment.labels ?? {}).filter(([key]) => !grantsNetworkAccess(key));
  const labels = {
    ...Object.fromEntries(userLabels),
    ...Object.assign({}, ...connections.map((c) => c.labels)),
    ...runLabels(run.metadata.name, team),
    ...(route ? { [PLINTH_LABELS.serves]: 'true' } : {}),
  };

  return {
    metadata: {
      // The run's uid names where its logs are archived; the finalizer holds each pod until they are.
      labels: { ...labels, [PLINTH_LABELS.runUid]: String(run.metadata.uid) },
      annotations: environment.annotations,
      ...(defaults.logArchive ? { finalizers: [LOGS_FINALIZER] } : {}),
    },
    spec: {
      restartPolicy,
      // The pool's selector cannot be overridden; the run may only narrow it.
      nodeSelector: { ...(environment.nodeSelector ?? {}), ...pool.nodeSelector },
      tolerations: [
        ...pool.tolerations,
        ...userTolerations.filter((t) => !pool.tolerations.some((p) => sameToleration(p, t as V1Toleration))),
      ] as V1Toleration[],
      affinity: environment.affinity,
      priorityClassName: environment.priorityClassName,
      serviceAccountName: account ?? defaults.runServiceAccount,
      // A token only for an account the platform's config says gets one; the run account has none.
      automountServiceAccountToken: account !== undefined && tokenMounted(where.team, account),
      securityContext: defaults.podSecurityContext,
      // The pause process is then the pod's pid 1, not the run's own: a script (python3, say) left
      // as pid 1 ignores SIGTERM, which has no default action there, so a stopped or deleted run
      // held its quota for the whole grace period until SIGKILL. The pod's containers are all the
      // run's, so seeing each other's processes shows a run nothing it does not already have.
      shareProcessNamespace: true,
      initContainers: [
        networkGate(defaults),
        ...(synced && source
          ? [
              outputsRestore(defaults, source, runOutputsUri(artifacts.outputs, source.uid), [
                ...outputsEnv,
                ...artifacts.env,
              ]),
            ]
          : []),
        ...(synced ? [outputsSync(defaults, [...outputsEnv, ...artifacts.env])] : []),
        ...(pod.init ?? []).map((c, i) => container(c as Record<string, unknown>, `init-${i}`, wiring, defaults)),
      ],
      containers: [container(pod.container as Record<string, unknown>, MAIN_CONTAINER, wiring, defaults)],
      volumes: [
        { name: RUN_SCRATCH.volume, emptyDir: { sizeLimit: RUN_SCRATCH.sizeLimit } },
        ...(synced ? [{ name: RUN_OUTPUTS.volume, emptyDir: { sizeLimit: RUN_OUTPUTS.sizeLimit } }] : []),
        ...artifacts.volumes,
        ...connections.flatMap((c) => c.volumes),
      ],
    },
  };
}

/** Children are named after their run, so a retried or restarted reconcile finds, never duplicates, them. */
export function childName(run: Pick<Run, 'metadata'>): string {
  return run.metadata.name;
}

export function ownerReference(run: Run): V1OwnerReference {
  return {
    apiVersion: RUN_API_VERSION,
    kind: RUN_KIND,
    name: run.metadata.name,
    uid: String(run.metadata.uid),
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Every child's metadata: the run's name, labels and ownerReference. */
export function childMetadata(run: Run, team: string): V1ObjectMeta {
  return {
    name: childName(run),
    namespace: run.metadata.namespace,
    labels: runLabels(run.metadata.name, team),
    ownerReferences: [ownerReference(run)],
  };
}

/**
 * GPUs one pod of the run holds: the largest of its containers' GPU limit or request, as the
 * scheduler counts a pod of one main container and init containers run one at a time. A quantity
 * is read as Kubernetes reads it: `1000m` is one GPU.
 */
export function gpusPerPod(pod: PodGpus): number {
  const containers = [pod.container, ...(pod.init ?? [])];
  return Math.max(
    0,
    ...containers.map((c) => {
      const r = c.resources ?? {};
      return quantityValue(r.limits?.[GPU_RESOURCE] ?? r.requests?.[GPU_RESOURCE] ?? 0);
    }),
  );
}
