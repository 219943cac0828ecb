import { Type, type Static } from '@sinclair/typebox';
import { Opaque, Quantity, StringEnum, StringMap } from './schema-helpers.js';
import { SecurityContext } from './security-floor.js';

/**
 * The Run resource (plinth.dev/v1alpha1), defined once. The CRD's OpenAPI schema is this
 * object (see crd.ts), and the TypeScript types below are derived from it.
 */
export const RUN_GROUP = 'plinth.dev';
export const RUN_VERSION = 'v1alpha1';
export const RUN_KIND = 'Run';
export const RUN_PLURAL = 'runs';
export const RUN_API_VERSION = `${RUN_GROUP}/${RUN_VERSION}`;

/** The REST path of all runs, or of one run (`namespace` and `name`). */
export const runsPath = (namespace?: string, name?: string): string =>
  namespace === undefined
    ? `/apis/${RUN_API_VERSION}/${RUN_PLURAL}`
    : `/apis/${RUN_API_VERSION}/namespaces/${namespace}/${RUN_PLURAL}/${name}`;

const name = Type.String({ minLength: 1, maxLength: 63 });
const ResourceList = StringMap(Quantity, { maxProperties: 16 });

export const Container = Type.Object(
  {
    name: Type.Optional(name),
    image: Type.String({ minLength: 1, maxLength: 512, description: 'Container image, pinned by tag or digest.' }),
    command: Type.Optional(Type.Array(Type.String(), { maxItems: 64 })),
    args: Type.Optional(Type.Array(Type.String(), { maxItems: 256 })),
    workingDir: Type.Optional(Type.String()),
    env: Type.Optional(Type.Array(Opaque<Record<string, unknown>>('An EnvVar.'), { maxItems: 128 })),
    resources: Type.Optional(
      Type.Object({ requests: Type.Optional(ResourceList), limits: Type.Optional(ResourceList) }),
    ),
    volumeMounts: Type.Optional(Type.Array(Opaque<Record<string, unknown>>('A VolumeMount.'), { maxItems: 64 })),
    securityContext: Type.Optional(SecurityContext),
  },
  { 'x-kubernetes-preserve-unknown-fields': true, description: 'A Kubernetes Container.' },
);

const Toleration = Type.Object({
  key: Type.Optional(Type.String()),
  operator: Type.Optional(StringEnum(['Exists', 'Equal'])),
  value: Type.Optional(Type.String()),
  effect: Type.Optional(StringEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])),
  tolerationSeconds: Type.Optional(Type.Integer()),
});

export const RunSpec = Type.Object({
  kind: StringEnum(['job', 'service'], {
    description: 'job runs to completion (batch/v1 Job); service keeps running (Deployment and Service).',
  }),
  pool: Type.String({ minLength: 1, description: 'The platform node pool the run is scheduled on.' }),
  container: Container,
  init: Type.Optional(Type.Array(Container, { maxItems: 16 })),
  environment: Type.Optional(
    Type.Object({
      labels: Type.Optional(StringMap(Type.String(), { maxProperties: 64 })),
      annotations: Type.Optional(StringMap(Type.String(), { maxProperties: 64 })),
      nodeSelector: Type.Optional(StringMap(Type.String(), { maxProperties: 32 })),
      tolerations: Type.Optional(Type.Array(Toleration, { maxItems: 32 })),
      affinity: Type.Optional(Opaque<Record<string, unknown>>('A Kubernetes Affinity.')),
      priorityClassName: Type.Optional(Type.String()),
      serviceAccountName: Type.Optional(name),
    }),
  ),
  termination: Type.Optional(
    Type.Object({
      maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Maps to backoffLimit.' })),
      timeout: Type.Optional(Type.Integer({ minimum: 1, description: 'Seconds; maps to activeDeadlineSeconds.' })),
      ttl: Type.Optional(
        Type.Integer({ minimum: 0, description: 'Seconds after finishing; maps to ttlSecondsAfterFinished.' }),
      ),
    }),
  ),
  params: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 }),
        value: Type.String({ maxLength: 4096 }),
      }),
      { maxItems: 128 },
    ),
  ),
  connections: Type.Optional(
    Type.Array(Type.String({ maxLength: 63 }), {
      maxItems: 16,
      'x-kubernetes-list-type': 'set',
      description:
        "Names of the platform's connections (its environment config's connections): each adds its env, Secret, ConfigMap or volume to every container. The artifact store is always connected.",
    }),
  ),
  stopped: Type.Optional(Type.Boolean({ description: 'Set to true to stop the run and delete its pods.' })),
  ports: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.Optional(Type.String({ maxLength: 15 })),
        port: Type.Integer({ minimum: 1, maximum: 65535 }),
        protocol: Type.Optional(StringEnum(['TCP', 'UDP'])),
      }),
      { maxItems: 16 },
    ),
  ),
  replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  isExternal: Type.Optional(
    Type.Boolean({
      description:
        "Service runs: serve the first port at https://<team>.runs.<domain>/<run>/ through the platform's ingress, over TLS. The ingress does not authenticate requests; the service must.",
    }),
  ),
});
export type RunSpec = Static<typeof RunSpec>;

/** Lifecycle phases, with Polyaxon's names. */
export const RUN_PHASES = [
  'created',
  'queued',
  'scheduled',
  'starting',
  'running',
  'succeeded',
  'failed',
  'stopped',
  'retrying',
  'unschedulable',
  'warning',
] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

const Condition = Type.Object({
  type: Type.String(),
  status: StringEnum(['True', 'False', 'Unknown']),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  lastTransitionTime: Type.Optional(Type.String({ format: 'date-time' })),
});

export const RunStatus = Type.Object({
  phase: Type.Optional(StringEnum(RUN_PHASES)),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  conditions: Type.Optional(Type.Array(Condition, { maxItems: 16 })),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  attempts: Type.Optional(Type.Integer({ minimum: 0 })),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  url: Type.Optional(Type.String({ description: 'Where an external service run is served.' })),
});
export type RunStatus = Static<typeof RunStatus>;

export interface Run {
  apiVersion: typeof RUN_API_VERSION;
  kind: typeof RUN_KIND;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; [key: string]: unknown };
  spec: RunSpec;
  status?: RunStatus;
}
