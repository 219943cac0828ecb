import { RUN_GROUP, RUN_KIND, RUN_PLURAL, RUN_VERSION, RunSpec, RunStatus } from './run.js';
import { GPU_RESOURCE } from '../../model/pools.js';
import { forbidden, type CelRule } from './schema-helpers.js';
import { RUN_NAME_MAX } from '../../model/names.js';

/** What the CRD needs to know of the platform: its run pools, so that bad pools fail at apply time. */
export interface RunPoolInfo {
  readonly name: string;
  readonly gpu: boolean;
}

/** TypeBox schemas carry symbol keys; JSON round-tripping leaves the plain OpenAPI schema. */
function plain<T>(schema: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

const GPU_KEY = `'${GPU_RESOURCE}'`;

/** Fields only a service run may set, each with why a job cannot: one rule per field names that field. */
const SERVICE_ONLY_FIELDS = {
  ports: 'a job run cannot have ports; use kind: service for a long-running server',
  replicas: 'a job run cannot have replicas; use kind: service for a long-running server',
  isExternal: 'only a service run is served through the ingress; a job run cannot set isExternal',
} satisfies Partial<Record<keyof typeof RunSpec.properties, string>>;

/** CEL rules on spec: the checks a schema alone cannot express. */
export function runSpecRules(pools: readonly RunPoolInfo[]): CelRule[] {
  const cpuPools = pools.filter((p) => !p.gpu).map((p) => `'${p.name}'`);
  const gpuPools = pools.filter((p) => p.gpu).map((p) => p.name);
  const asksForGpu =
    `has(self.container.resources) && ((has(self.container.resources.limits) && ${GPU_KEY} in self.container.resources.limits) || ` +
    `(has(self.container.resources.requests) && ${GPU_KEY} in self.container.resources.requests))`;
  return [
    ...Object.entries(SERVICE_ONLY_FIELDS).map(([field, message]) =>
      forbidden(`self.kind != 'job' || !has(self.${field})`, `.${field}`, message),
    ),
    {
      rule: "self.kind != 'service' || (has(self.ports) && size(self.ports) > 0)",
      message: 'a service run needs at least one port',
      fieldPath: '.ports',
      reason: 'FieldValueRequired',
    },
    {
      rule: `!has(self.pool) || !(self.pool in [${cpuPools.join(', ')}]) || !(${asksForGpu})`,
      message: `container.resources asks for ${GPU_RESOURCE} on a CPU pool; use a GPU pool (${gpuPools.join(', ') || 'none defined'})`,
      fieldPath: '.container.resources',
      reason: 'FieldValueInvalid',
    },
  ];
}

/**
 * Transition rules on spec: what a submitted run may no longer change. A job's Job is made once,
 * from the run as first applied, so any later edit but a stop would be silently ignored; a service
 * rolls its Deployment to the new spec, but cannot turn into a job. Stopping is final.
 */
export function runSpecTransitionRules(): CelRule[] {
  const unchanged = (field: string) =>
    `has(self.${field}) == has(oldSelf.${field}) && (!has(self.${field}) || self.${field} == oldSelf.${field})`;
  // kind has a rule of its own, for every run.
  const frozenInJobs = Object.keys(RunSpec.properties).filter((field) => field !== 'stopped' && field !== 'kind');
  return [
    forbidden('self.kind == oldSelf.kind', '.kind', "a run's kind cannot change; submit a new run"),
    ...frozenInJobs.map((field) =>
      forbidden(
        `oldSelf.kind != 'job' || (${unchanged(field)})`,
        `.${field}`,
        'a job run cannot change once submitted: its Job is made once, from the run as first applied. Only spec.stopped may change; submit a new run instead',
      ),
    ),
    forbidden(
      '!has(oldSelf.stopped) || !oldSelf.stopped || (has(self.stopped) && self.stopped)',
      '.stopped',
      'a stopped run stays stopped; submit a new run to run it again',
    ),
  ];
}

/**
 * Rules on the run's name, at the root of the schema: the only place a CRD may check
 * metadata.name. A name its children could not take would leave the run stuck in created while
 * the controller retries, so it is refused at apply time instead. Only on create: a name never
 * changes, and a run stored before these rules must still take its status and its stop.
 */
export function runNameRules(): CelRule[] {
  const onCreate = (check: string) => `oldSelf.hasValue() || (${check})`;
  return [
    {
      rule: onCreate(`size(self.metadata.name) <= ${RUN_NAME_MAX}`),
      message: `a run's name is at most ${RUN_NAME_MAX} characters: its children are named after it, with room for the suffixes some add`,
      fieldPath: '.metadata.name',
      reason: 'FieldValueInvalid',
      optionalOldSelf: true,
    },
    {
      rule: onCreate("self.spec.kind != 'service' || self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')"),
      message:
        "a service run's name must be a DNS-1035 label, since its Service is named after it: a lowercase letter first, then lowercase letters, digits or '-', ending with a letter or digit",
      fieldPath: '.metadata.name',
      reason: 'FieldValueInvalid',
      optionalOldSelf: true,
    },
  ];
}

/**
 * A run may name only the platform's connections: the items' enum lists them. With none defined,
 * an enum could not be empty, so a rule refuses any instead.
 */
function restrictConnections(
  connectionsSchema: { items: Record<string, unknown> },
  names: readonly string[],
): CelRule[] {
  if (names.length > 0) {
    connectionsSchema.items = { ...connectionsSchema.items, enum: [...names] };
    return [];
  }
  return [
    forbidden(
      '!has(self.connections) || size(self.connections) == 0',
      '.connections',
      'this platform defines no connections; a platform engineer adds them under connections in the environment config',
    ),
  ];
}

/** The Run CRD, built from the schema in run.ts and the platform's pools and connections. */
export function runCustomResourceDefinition(pools: readonly RunPoolInfo[], connections: readonly string[]) {
  const spec = plain(RunSpec);
  const properties = spec['properties'] as Record<string, Record<string, unknown>>;
  properties['pool'] = { ...properties['pool'], enum: pools.map((p) => p.name) };
  const connectionRules = restrictConnections(
    properties['connections'] as { items: Record<string, unknown> },
    connections,
  );
  spec['x-kubernetes-validations'] = [...runSpecRules(pools), ...connectionRules, ...runSpecTransitionRules()];

  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${RUN_PLURAL}.${RUN_GROUP}` },
    spec: {
      group: RUN_GROUP,
      names: {
        kind: RUN_KIND,
        listKind: `${RUN_KIND}List`,
        plural: RUN_PLURAL,
        singular: 'run',
        shortNames: ['plr'],
        categories: ['plinth'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: RUN_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Kind', type: 'string', jsonPath: '.spec.kind' },
            { name: 'Pool', type: 'string', jsonPath: '.status.pool' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Reason', type: 'string', jsonPath: '.status.reason' },
            { name: 'Attempts', type: 'integer', jsonPath: '.status.attempts' },
            { name: 'Started', type: 'date', jsonPath: '.status.startedAt' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            { name: 'URL', type: 'string', jsonPath: '.status.url', priority: 1 },
            // Last, as the longest: a long message does not push the URL off the screen.
            { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                "A job or service of an ML team, launched by the platform's controller on one of the platform's node pools.",
              required: ['spec'],
              'x-kubernetes-validations': runNameRules(),
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                // Declared only for the name rules: the API server refuses a fieldPath the schema lacks.
                metadata: { type: 'object', properties: { name: { type: 'string' } } },
                spec,
                // Read back as `created` until the controller first reports, so that a new run
                // never shows a blank phase; the API server drops a status sent on create.
                status: { ...plain(RunStatus), default: { phase: 'created' } },
              },
            },
          },
        },
      ],
    },
  } as const;
}
