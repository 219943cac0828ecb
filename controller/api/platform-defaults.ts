import type {
  V1EnvVar,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { Type, type Static } from '@sinclair/typebox';
import { RunConnection } from '../../model/connections.js';
import { DURATION_PATTERN } from '../../model/config/duration.js';
import { KubernetesObject } from '../../model/kubernetes-schema.js';

/**
 * The platform defaults the controller applies to every run: the contract between the constructs,
 * which write them into the controller's ConfigMap under PLATFORM_DEFAULTS_KEY, and the controller,
 * which validates them against this schema when it starts. Every field has a reader in the controller.
 */
export const PLATFORM_DEFAULTS_KEY = 'platform-defaults.json';

const names = Type.Array(Type.String());
/** A pool name, or null where the team has no pool that fits. */
const poolOrNone = Type.Union([Type.String({ minLength: 1 }), Type.Null()]);

export const PoolDefaults = Type.Object({
  /** A GPU pool takes only runs that ask for GPUs. */
  gpu: Type.Boolean(),
  nodeSelector: Type.Record(Type.String(), Type.String()),
  tolerations: Type.Array(KubernetesObject<V1Toleration>('A Kubernetes Toleration.')),
});
export type PoolDefaults = Static<typeof PoolDefaults>;

export const TeamDefaults = Type.Object({
  team: Type.String({ minLength: 1 }),
  maxConcurrentRuns: Type.Integer({ minimum: 0 }),
  gpu: Type.Integer({ minimum: 0 }),
  /** The pools the team's runs may name. */
  pools: names,
  /**
   * Where a run naming no pool goes, resolved by the constructs from the config (teams[].defaultPool,
   * runs.defaultPool, the team's first cpu pool), so that the controller knows no config rule.
   */
  defaultPool: poolOrNone,
  /** Where a run naming no pool goes when it asks for GPUs (teams[].defaultGpuPool, the team's first GPU pool). */
  defaultGpuPool: poolOrNone,
  /** The connections the team's runs may name. */
  connections: names,
  /** The priority classes the team's runs may name. */
  priorityClasses: names,
  /** The accounts the team's runs may act as, besides the run account, and whether each gets its token. */
  serviceAccounts: Type.Record(Type.String(), Type.Object({ mountToken: Type.Boolean() })),
  /** The host the team's external service runs are served under. */
  servicesHost: Type.String({ minLength: 1 }),
  /**
   * How the team's runs reach the artifact store: its env, credentials and mounts. The team's own
   * credential, which reaches only its prefixes, never the platform's.
   */
  artifacts: Type.Object({
    env: Type.Array(KubernetesObject<V1EnvVar>('A Kubernetes EnvVar.')),
    volumes: Type.Array(KubernetesObject<V1Volume>('A Kubernetes Volume.')),
    volumeMounts: Type.Array(KubernetesObject<V1VolumeMount>('A Kubernetes VolumeMount.')),
    /** Where the team's runs keep their outputs (model/run-outputs.ts). */
    outputs: Type.Object({ uri: Type.String({ minLength: 1 }), synced: Type.Boolean() }),
  }),
});
export type TeamDefaults = Static<typeof TeamDefaults>;

export const PlatformDefaults = Type.Object({
  /** The environment's name, logged at start. */
  environment: Type.String({ minLength: 1 }),
  /** The run pools, keyed by name. */
  pools: Type.Record(Type.String(), PoolDefaults),
  podSecurityContext: KubernetesObject<V1PodSecurityContext>('The security context of every run pod.'),
  containerSecurityContext: KubernetesObject<V1SecurityContext>('The floor of every run container.'),
  /** Runs use this ServiceAccount (no API access, no token) unless they name another. */
  runServiceAccount: Type.String({ minLength: 1 }),
  /** The tracking server (MLflow): every run gets an MLflow run there (controller/tracking/). */
  tracking: Type.Object({
    /** Its in-cluster URI, which runs log to (MLFLOW_TRACKING_URI) and the controller calls. */
    uri: Type.String({ minLength: 1 }),
    /** Where people open its UI, through the ingress: the base of each run's `status.tracking.url`. */
    uiUrl: Type.String({ minLength: 1 }),
    /** How long a run's workload waits for its MLflow run before it starts without one (tracking.waitSeconds). */
    waitSeconds: Type.Integer({ minimum: 0 }),
  }),
  /** The platform's `init` image, in which each run pod's network gate and outputs sidecar run. */
  initImage: Type.String({ minLength: 1 }),
  /** How external service runs are served: the IngressClass, and the TLS Secret in each team namespace. */
  externalServices: Type.Object({ ingressClassName: Type.String(), tlsSecretName: Type.String() }),
  /** The connections runs may name in spec.connections, keyed by name. */
  connections: Type.Record(Type.String(), RunConnection),
  /** Keyed by team namespace. */
  teams: Type.Record(Type.String(), TeamDefaults),
  /** How long after it finished a top-level run is deleted (runs.retention), as the config writes it. */
  runRetention: Type.String({ pattern: DURATION_PATTERN }),
  /**
   * Where the controller archives runs' logs (model/log-archive.ts), or null where the store keeps
   * none: then run pods carry no logs finalizer.
   */
  logArchive: Type.Union([
    Type.Object({
      bucket: Type.String({ minLength: 1 }),
      region: Type.String({ minLength: 1 }),
      endpoint: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
      prefix: Type.String(),
    }),
    Type.Null(),
  ]),
});
export type PlatformDefaults = Static<typeof PlatformDefaults>;
