import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { RESERVED_POD_KEYS } from '../../model/labels.js';
import {
  Dns1123Label,
  Dns1123Subdomain,
  IanaServiceName,
  LabelValue,
  Opaque,
  QUALIFIED_NAME,
  StringEnum,
  StringMap,
  qualifiedKeys,
  unreservedKeys,
  type CelRule,
} from './schema-helpers.js';
import { Affinity } from './affinity.js';
import { Container } from './container.js';
import { RUN_CONDITIONS, type RunConditionType } from './reasons.js';

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

/**
 * The leaf run kinds, whose pods the Run reconciler makes. Each has its implementation in
 * controller/runs/kinds/, and the registry there is typed by this list: a kind added here without
 * one does not compile.
 */
export const LEAF_KIND_NAMES = ['job', 'service'] as const;
export type LeafKindName = (typeof LEAF_KIND_NAMES)[number];
/**
 * Every value of spec.kind: the leaf kinds, and dag, whose operations are child runs. A run with a
 * matrix or a schedule beside its kind section is a parent too (see composition.ts).
 */
export const RUN_KIND_NAMES = [...LEAF_KIND_NAMES, 'dag'] as const;
export type RunKindName = (typeof RUN_KIND_NAMES)[number];

/** A map of label keys to label values, as labels and node selectors are. */
const LabelMap = (
  what: string,
  options: { maxProperties: number; description: string },
  extraRules: readonly CelRule[] = [],
) =>
  Type.Unsafe<Record<string, string>>({
    ...StringMap(LabelValue(), options),
    'x-kubernetes-validations': [qualifiedKeys(what), ...extraRules],
  });
const reservedPrefixes = (annotations: boolean) =>
  RESERVED_POD_KEYS.filter((k) => !annotations || k.annotations).map((k) => k.prefix);

const Toleration = Type.Object(
  {
    key: Type.Optional(
      Type.String({
        maxLength: 317,
        pattern: `^$|${QUALIFIED_NAME}`,
        description: 'The taint key, a qualified name; empty with Exists tolerates every taint.',
      }),
    ),
    operator: Type.Optional(StringEnum(['Exists', 'Equal'], { description: 'Defaults to Equal.' })),
    value: Type.Optional(LabelValue('The taint value, for Equal.')),
    effect: Type.Optional(
      StringEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], { description: 'Empty matches every effect.' }),
    ),
    tolerationSeconds: Type.Optional(
      Type.Integer({ description: 'NoExecute only: how long the pod stays on a node after the taint appears.' }),
    ),
  },
  { description: 'A Kubernetes Toleration.' },
);

/**
 * At most 8: each container's rules are evaluated once per init container of every operation of a
 * dag, and the API server bounds their total cost when it takes the CRD.
 */
const Init = Type.Array(Container, {
  maxItems: 8,
  description: 'Containers run in order before the main one, each with the same env, mounts and security floor.',
});

/** What every leaf kind runs: its main container and the init containers before it. */
const podSection = {
  container: Container,
  init: Type.Optional(Init),
};

const Termination = Type.Object(
  {
    maxRetries: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'Times a failed pod is retried; maps to backoffLimit. Defaults to 0.',
      }),
    ),
    timeout: Type.Optional(Type.Integer({ minimum: 1, description: 'Seconds; maps to activeDeadlineSeconds.' })),
    ttl: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Seconds after finishing; maps to ttlSecondsAfterFinished.' }),
    ),
  },
  { description: 'How often and how long the run is tried, and how long its Job is kept.' },
);

/** kind: job. Closed, as every kind section is: a field of another kind is refused, not ignored. */
export const JobSection = Type.Object(
  { ...podSection, termination: Type.Optional(Termination) },
  { description: 'kind: job. One container to completion, as a batch/v1 Job.' },
);
export type JobSection = Static<typeof JobSection>;

export const ServiceSection = Type.Object(
  {
    ...podSection,
    ports: Type.Array(
      Type.Object({
        name: Type.Optional(IanaServiceName('Defaults to port-<index>: an IANA service name.')),
        port: Type.Integer({ minimum: 1, maximum: 65535, description: 'The container port, served by the Service.' }),
        // Defaulted by the API server, as a key of the list-map must be.
        protocol: Type.Optional(StringEnum(['TCP', 'UDP'], { description: 'Defaults to TCP.', default: 'TCP' })),
      }),
      {
        minItems: 1,
        maxItems: 16,
        // Keyed as a Service's ports are: a port served twice is refused here, by name, rather than
        // by the server-side apply of the Service, which fails such a list with an HTTP 500.
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['port', 'protocol'],
        'x-kubernetes-validations': [
          {
            rule: 'self.all(p, !has(p.name) || self.exists_one(q, has(q.name) && q.name == p.name))',
            message: 'port names must be unique, as a Service needs them',
            // Not FieldValueDuplicate, whose error the API server prints without the message.
            reason: 'FieldValueInvalid',
          },
        ] satisfies CelRule[],
        description: "At least one: the ports the main container serves, each on the run's Service.",
      },
    ),
    replicas: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: "Pods of the Deployment, whose GPUs all count in the team's quota. Defaults to 1.",
      }),
    ),
    isExternal: Type.Optional(
      Type.Boolean({
        description:
          "Serve the first port at https://<team>.runs.<domain>/<run>/ through the platform's ingress, over TLS. The ingress does not authenticate requests; the service must.",
      }),
    ),
  },
  { description: 'kind: service. A long-running server, as a Deployment and the Service in front of it.' },
);
export type ServiceSection = Static<typeof ServiceSection>;

/** What a leaf kind's pods run: the fields of its section that every leaf kind has. */
export type PodSection = Pick<JobSection, 'container' | 'init'>;

/**
 * Each leaf kind's section, under the kind's own name (spec.job, spec.service), in a run's spec and
 * in a composite run's template alike. Typed by the list of leaf kinds: a kind without its section
 * does not compile.
 */
const leafKindSections = {
  job: Type.Optional(JobSection),
  service: Type.Optional(ServiceSection),
} satisfies Record<LeafKindName, TSchema>;
export type LeafKindSections = { [K in LeafKindName]: NonNullable<Static<(typeof leafKindSections)[K]>> };

/** The fields every run shares, whatever its kind: where it runs, with what around it. */
const sharedFields = {
  pool: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "The platform node pool the run is scheduled on: the pool's nodeSelector and tolerations are added to its pods. Without it, a run asking for nvidia.com/gpu goes to its team's default GPU pool, any other to its team's default pool; status.pool says which. A composite run's children take it unless their template names one.",
    }),
  ),
  environment: Type.Optional(
    Type.Object(
      {
        labels: Type.Optional(
          LabelMap(
            'label key',
            {
              maxProperties: 64,
              description: `Added to the run's pods. Keys starting with ${reservedPrefixes(false).join(', ')} are the platform's, Kubernetes' or an add-on's, and refused.`,
            },
            [unreservedKeys('label key', reservedPrefixes(false))],
          ),
        ),
        annotations: Type.Optional(
          Type.Unsafe<Record<string, string>>({
            ...StringMap(Type.String(), {
              maxProperties: 64,
              description: `Added to the run's pods. Keys starting with ${reservedPrefixes(true).join(', ')} are Kubernetes' or an add-on's, and refused.`,
            }),
            'x-kubernetes-validations': [
              qualifiedKeys('annotation key', { anyCase: true }),
              unreservedKeys('annotation key', reservedPrefixes(true)),
            ],
          }),
        ),
        nodeSelector: Type.Optional(
          LabelMap('node label key', {
            maxProperties: 32,
            description: "Narrows the pool's nodeSelector; the pool's own keys cannot be changed.",
          }),
        ),
        tolerations: Type.Optional(
          Type.Array(Toleration, { maxItems: 32, description: "Added to the pool's tolerations." }),
        ),
        affinity: Type.Optional(Affinity),
        priorityClassName: Type.Optional(
          Dns1123Subdomain(
            "The PriorityClass of the run's pods: one of the platform's run classes (runs.priorityClasses in its config) that the run's team may use. Without it, the default priority.",
          ),
        ),
        serviceAccountName: Type.Optional(
          Dns1123Subdomain(
            "An account for the run's pods to act as: one the platform's config gives the run's team, its token mounted only where the config says. Without it, the pods run as the platform's run account, with no token.",
          ),
        ),
      },
      {
        description: "Pod settings. The pool's placement and the platform's security floor apply whatever is set here.",
      },
    ),
  ),
  params: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String({
          pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
          maxLength: 128,
          description: 'The env var name: a letter or underscore, then letters, digits or underscores.',
        }),
        value: Type.String({ maxLength: 4096, description: 'The value, as given.' }),
      }),
      {
        maxItems: 128,
        description: 'Named values, each an env var of every container, so args may use them as $(NAME).',
      },
    ),
  ),
  connections: Type.Optional(
    Type.Array(Type.String({ maxLength: 63 }), {
      maxItems: 16,
      'x-kubernetes-list-type': 'set',
      description:
        "Names of the platform's connections (its environment config's connections) that the run's team may use: each adds its env, Secret, ConfigMap or volume to every container. The artifact store is always connected.",
    }),
  ),
};

/** Polyaxon's search algorithms. */
export const MATRIX_KINDS = ['grid', 'random', 'mapping', 'hyperband', 'bayes'] as const;
/** Polyaxon's kinds of search space for one param. */
export const MATRIX_PARAM_KINDS = [
  'choice',
  'pchoice',
  'range',
  'linspace',
  'logspace',
  'geomspace',
  'uniform',
  'quniform',
  'loguniform',
  'qloguniform',
  'normal',
  'qnormal',
  'lognormal',
  'qlognormal',
] as const;

/** Any JSON value, kept as given: a search space's bounds or choices, whose shape its kind decides. */
const AnyValue = (description: string) =>
  Type.Unsafe<unknown>({ 'x-kubernetes-preserve-unknown-fields': true, description });

/**
 * spec.matrix: the run is a sweep, and the rest of its spec is the template of every trial, a
 * child Run. Its fields follow Polyaxon's matrix.
 */
export const Matrix = Type.Object(
  {
    kind: StringEnum(MATRIX_KINDS, { description: 'The search algorithm.' }),
    params: Type.Optional(
      StringMap(
        Type.Object({
          kind: StringEnum(MATRIX_PARAM_KINDS, { description: 'The kind of search space.' }),
          value: AnyValue('The space: the choices, or the bounds and step, as Polyaxon writes them.'),
        }),
        { maxProperties: 32, description: "The search space, by param name: a trial's value overrides spec.params." },
      ),
    ),
    values: Type.Optional(
      Type.Array(Opaque<Record<string, unknown>>('One trial: its value of each param, by name.'), {
        maxItems: 1000,
        description: 'mapping: the trials, each its own set of params.',
      }),
    ),
    numRuns: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'How many trials at most.' })),
    seed: Type.Optional(Type.Integer({ description: 'Seeds random sampling, so a sweep can be repeated.' })),
    concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: 'Trials unfinished at any time, at most. Defaults to 1.',
      }),
    ),
  },
  { description: 'Makes the run a sweep: trials of the rest of the spec, over a search space.' },
);
export type Matrix = Static<typeof Matrix>;

/** Fields of spec.schedule that describe when, frozen once submitted like the rest of a parent. */
export const Schedule = Type.Object(
  {
    kind: StringEnum(['cron', 'interval', 'datetime'], {
      description:
        'cron: at the times of a cron expression; interval: every frequency seconds; datetime: once, at startAt.',
    }),
    cron: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'cron: the cron expression.' })),
    timeZone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'cron: an IANA time zone, such as Europe/Paris. Defaults to UTC.',
      }),
    ),
    frequency: Type.Optional(Type.Integer({ minimum: 1, description: 'interval: seconds between two runs.' })),
    startAt: Type.Optional(Type.String({ format: 'date-time', description: 'No run before this time.' })),
    endAt: Type.Optional(Type.String({ format: 'date-time', description: 'No run after this time.' })),
    maxRuns: Type.Optional(Type.Integer({ minimum: 1, description: 'Runs made at most.' })),
    dependsOnPast: Type.Optional(Type.Boolean({ description: 'The next run only after the previous one succeeded.' })),
    suspended: Type.Optional(
      Type.Boolean({
        description: 'Pauses the schedule: the one field, with spec.stopped, that may change once submitted.',
      }),
    ),
  },
  {
    description: 'Makes the run a schedule: its children are the rest of the spec, made at the times it says.',
    'x-kubernetes-validations': [
      {
        rule: "self.kind != 'cron' || has(self.cron)",
        message: 'a cron schedule needs cron',
        fieldPath: '.cron',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.kind != 'interval' || has(self.frequency)",
        message: 'an interval schedule needs frequency',
        fieldPath: '.frequency',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.kind != 'datetime' || has(self.startAt)",
        message: 'a datetime schedule needs startAt',
        fieldPath: '.startAt',
        reason: 'FieldValueRequired',
      },
    ] satisfies CelRule[],
  },
);
export type Schedule = Static<typeof Schedule>;

/** The DAG trigger policies: when an operation runs, from how its upstream operations ended. */
export const DAG_TRIGGERS = [
  'all_succeeded',
  'all_failed',
  'all_done',
  'one_succeeded',
  'one_failed',
  'one_done',
] as const;

/**
 * What a composite run makes its children from: a leaf kind with the shared fields, and optionally
 * a matrix. Never a DAG and never a schedule: structural schemas cannot recurse, so the CRD
 * expands templates to exactly this depth.
 */
export const RunTemplate = Type.Object(
  {
    kind: StringEnum(LEAF_KIND_NAMES, { description: 'A leaf kind: job or service. DAGs do not nest.' }),
    ...sharedFields,
    ...leafKindSections,
    matrix: Type.Optional(Matrix),
  },
  { description: "A child run's spec: a leaf kind, optionally swept by a matrix." },
);
export type RunTemplate = Static<typeof RunTemplate>;

export const Dag = Type.Object(
  {
    operations: Type.Array(
      Type.Object({
        name: Dns1123Label("The operation's name, unique in the DAG; its child run is named after it."),
        dependencies: Type.Optional(
          Type.Array(Dns1123Label('An upstream operation.'), {
            maxItems: 64,
            'x-kubernetes-list-type': 'set',
            description: 'Operations that must end before this one runs, as its trigger says.',
          }),
        ),
        trigger: Type.Optional(
          StringEnum(DAG_TRIGGERS, {
            description: 'When the operation runs, from how its dependencies ended. Defaults to all_succeeded.',
          }),
        ),
        template: RunTemplate,
      }),
      {
        minItems: 1,
        maxItems: 200,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description: 'The operations, each a child run.',
      },
    ),
    concurrency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'Operations unfinished at any time, at most.' }),
    ),
  },
  { description: 'kind: dag. Operations run as child runs, each once its dependencies allow.' },
);
export type Dag = Static<typeof Dag>;

/**
 * spec.resumeFrom and spec.copyFrom: the earlier run whose outputs a run starts with, as Polyaxon's
 * `ops resume` and `ops restart --copy` do. By name, a run of the same namespace; by uid, any run of
 * the team, deleted too while its outputs are kept (the store's lifecycle says how long).
 */
const OutputsSource = (what: string) =>
  Type.Object(
    {
      name: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 253,
          description: 'A run of the same namespace, by name.',
        }),
      ),
      uid: Type.Optional(
        Type.String({
          pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
          description: "A run of the same team, by uid: a deleted run's too, while its outputs are kept.",
        }),
      ),
    },
    {
      description: what,
      'x-kubernetes-validations': [
        {
          rule: 'has(self.name) != has(self.uid)',
          message: 'name the earlier run by exactly one of name or uid',
          reason: 'FieldValueInvalid',
        },
      ] satisfies CelRule[],
    },
  );

export const RunSpec = Type.Object(
  {
    kind: StringEnum(RUN_KIND_NAMES, {
      description:
        'job runs to completion (spec.job); service keeps running (spec.service); dag runs operations in order (spec.dag). The section of the same name says what it runs.',
    }),
    ...sharedFields,
    stopped: Type.Optional(Type.Boolean({ description: 'Set to true to stop the run and delete its pods.' })),
    resumeFrom: Type.Optional(
      OutputsSource(
        "Resumes an earlier run: this run's outputs are the earlier run's (PLINTH_RUN_OUTPUTS_URI is its prefix), and PLINTH_RUN_OUTPUTS_PATH holds them when its containers start, so a training script finds its checkpoints. Job and service runs only.",
      ),
    ),
    copyFrom: Type.Optional(
      OutputsSource(
        "Starts with a copy of an earlier run's outputs: PLINTH_RUN_OUTPUTS_PATH holds them when its containers start, and this run's own prefix gets them and what it adds. Job and service runs only.",
      ),
    ),
    ...leafKindSections,
    dag: Type.Optional(Dag),
    matrix: Type.Optional(Matrix),
    schedule: Type.Optional(Schedule),
  },
  {
    description:
      'What the run runs: its kind and the section of that name, where, and how it ends. With matrix or schedule beside it, the run is a parent whose children are runs.',
  },
);
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
  type: StringEnum(Object.keys(RUN_CONDITIONS) as RunConditionType[], {
    description: Object.entries(RUN_CONDITIONS)
      .map(([type, meaning]) => `${type}: ${meaning}.`)
      .join(' '),
  }),
  status: StringEnum(['True', 'False', 'Unknown'], { description: 'Whether the condition holds now.' }),
  reason: Type.Optional(Type.String({ description: 'Why the condition has its status, in one CamelCase word.' })),
  message: Type.Optional(Type.String({ description: 'Why, for a person.' })),
  lastTransitionTime: Type.Optional(Type.String({ format: 'date-time', description: 'When status last changed.' })),
});

/** The most a run's `status.outputs` holds, in characters of JSON: later runs of a pipeline or sweep read it. */
export const OUTPUTS_LIMIT_CHARS = 4096;

/** Where a run's metrics are: the MLflow run the controller made for it (controller/tracking/). */
export const RunTracking = Type.Object(
  {
    experimentId: Type.String({ description: "The MLflow experiment: the team's, `teams/<team>`." }),
    runId: Type.String({ description: "The MLflow run's id, which the run's containers get as MLFLOW_RUN_ID." }),
    url: Type.String({ description: "The MLflow run's page in the tracking server's UI." }),
  },
  { description: "The MLflow run that holds the run's params and metrics." },
);
export type RunTracking = Static<typeof RunTracking>;

export const RunStatus = Type.Object(
  {
    phase: Type.Optional(StringEnum(RUN_PHASES, { description: 'Where the run is in its lifecycle.' })),
    reason: Type.Optional(
      Type.String({
        description:
          'Why the run is in its phase, in one CamelCase word, such as WaitingForQuota or VolumeClaimNotFound.',
      }),
    ),
    message: Type.Optional(
      Type.String({ description: 'Why, for a person: for a pending run, what keeps it from running.' }),
    ),
    conditions: Type.Optional(
      Type.Array(Condition, {
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description:
          'Admitted, Scheduled, Running, Finished and Succeeded, which is Unknown until the run finishes, then True if it succeeded, or False with the reason it failed or was stopped (kubectl wait --for=condition=Succeeded).',
      }),
    ),
    startedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When its first pod started.' })),
    finishedAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the run reached succeeded, failed or stopped.' }),
    ),
    attempts: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Pods the run has had so far, retries included.' }),
    ),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'The generation of the spec this status describes.' }),
    ),
    url: Type.Optional(Type.String({ description: 'Where an external service run is served.' })),
    pool: Type.Optional(
      Type.String({
        description: "The node pool the run goes to: spec.pool, or its team's default when it names none.",
      }),
    ),
    kind: Type.Optional(
      Type.String({
        description:
          'The run as kubectl lists it: spec.kind, then +matrix and +schedule for the sections it has, e.g. job+matrix.',
      }),
    ),
    tracking: Type.Optional(RunTracking),
    images: Type.Optional(
      Type.Array(
        Type.Object({
          container: Type.String({ description: "The container's name." }),
          image: Type.String({ description: 'The image as the kubelet names it, tag and all.' }),
          imageID: Type.String({
            description: "The image the kubelet ran, by digest, whatever tag was asked (the pod's imageID).",
          }),
        }),
        {
          maxItems: 16,
          description:
            "Exactly what ran: each of the run's own containers, init ones included, in its newest pod that started.",
        },
      ),
    ),
    platformVersion: Type.Optional(
      Type.String({ description: "The version of the platform whose controller made the run's workload." }),
    ),
    outputs: Type.Optional(
      Opaque<Record<string, unknown>>(
        `What the run reports, at most ${OUTPUTS_LIMIT_CHARS} characters of JSON: the JSON object its main container writes to /dev/termination-log, and its MLflow run's latest metrics under names it did not report. Later runs of a pipeline or sweep read it.`,
      ),
    ),
  },
  { description: "Reported by the platform's controller." },
);
export type RunStatus = Static<typeof RunStatus>;

export interface Run {
  apiVersion: typeof RUN_API_VERSION;
  kind: typeof RUN_KIND;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; [key: string]: unknown };
  spec: RunSpec;
  status?: RunStatus;
}

/** A leaf run's kind section, which the CRD requires for its kind, of a whole spec or of what a cache keeps. */
export function sectionOf<S extends { readonly [K in LeafKindName]?: unknown }, K extends LeafKindName>(
  spec: S,
  kind: K,
): NonNullable<S[K]> {
  const section = spec[kind];
  if (!section) throw new Error(`spec.${kind} is missing, though spec.kind is ${kind}: the Run CRD requires it`);
  return section;
}
