import {
  LEAF_KIND_NAMES,
  RUN_GROUP,
  RUN_KIND,
  RUN_KIND_NAMES,
  RUN_PLURAL,
  RUN_VERSION,
  RunSpec,
  RunStatus,
  Schedule,
  type RunKindName,
} from './run.js';
import { GPU_RESOURCE } from '../../model/pools.js';
import { forbidden, type CelRule } from './schema-helpers.js';
import { RUN_NAME_MAX } from '../../model/names.js';

/** A run pool, as the CRD knows it: whether it is a GPU pool decides what runs it takes. */
export interface RunPoolInfo {
  readonly name: string;
  readonly gpu: boolean;
}

/**
 * What the CRD needs to know of the platform, so that a run naming something the platform does
 * not have fails at apply time: its run pools, connections, run priority classes, and the accounts
 * some team's runs may act as. Which of them a run's own team may use is the controller's check.
 */
export interface RunPlatformInfo {
  readonly pools: readonly RunPoolInfo[];
  readonly connections: readonly string[];
  readonly priorityClasses: readonly string[];
  readonly serviceAccounts: readonly string[];
}

/** TypeBox schemas carry symbol keys; JSON round-tripping leaves the plain OpenAPI schema. */
function plain<T>(schema: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

const GPU_KEY = `'${GPU_RESOURCE}'`;

/**
 * CEL rules on a leaf run's fields, at spec and at every template: its kind's section is there and
 * no other kind's is, and it asks for no GPU on a CPU pool.
 */
function leafRules(pools: readonly RunPoolInfo[], kinds: readonly RunKindName[]): CelRule[] {
  const cpuPools = pools.filter((p) => !p.gpu).map((p) => `'${p.name}'`);
  const gpuPools = pools.filter((p) => p.gpu).map((p) => p.name);
  const asksForGpu = (container: string) =>
    `has(${container}.resources) && ((has(${container}.resources.limits) && ${GPU_KEY} in ${container}.resources.limits) || ` +
    `(has(${container}.resources.requests) && ${GPU_KEY} in ${container}.resources.requests))`;
  return [
    ...kinds.map((kind): CelRule => ({
      rule: `self.kind != '${kind}' || has(self.${kind})`,
      message: `a run of kind ${kind} needs its section, ${kind}: what it runs`,
      fieldPath: `.${kind}`,
      reason: 'FieldValueRequired',
    })),
    ...kinds.map((kind): CelRule => ({
      ...forbidden(
        `!has(self.${kind}) || self.kind == '${kind}'`,
        `.${kind}`,
        `${kind} is the section of kind ${kind}; a run has only its own kind's section`,
      ),
      messageExpression: `'${kind} is the section of kind ${kind}; a run of kind ' + self.kind + ' has only the section ' + self.kind`,
    })),
    ...LEAF_KIND_NAMES.flatMap((kind): CelRule[] => {
      const onCpuPool = `has(self.pool) && self.pool in [${cpuPools.join(', ')}] && has(self.${kind})`;
      const onGpuPool = `has(self.pool) && self.pool in [${gpuPools.map((p) => `'${p}'`).join(', ')}] && has(self.${kind})`;
      const useGpuPool = `use a GPU pool (${gpuPools.join(', ') || 'none defined'})`;
      const anyAsksForGpu = `(${asksForGpu(`self.${kind}.container`)}) || (has(self.${kind}.init) && self.${kind}.init.exists(c, ${asksForGpu('c')}))`;
      return [
        // A GPU node's pod slots and memory are for GPU work: a run asking for none would hold them.
        {
          rule: `!(${onGpuPool}) || ${anyAsksForGpu}`,
          message: `a run on a GPU pool asks for ${GPU_RESOURCE} in its container or an init container; a run without GPUs goes to a CPU pool (${cpuPools.join(', ') || 'none defined'})`,
          fieldPath: '.pool',
          reason: 'FieldValueInvalid',
        },
        {
          rule: `!(${onCpuPool}) || !(${asksForGpu(`self.${kind}.container`)})`,
          message: `container.resources asks for ${GPU_RESOURCE} on a CPU pool; ${useGpuPool}`,
          fieldPath: `.${kind}.container.resources`,
          reason: 'FieldValueInvalid',
        },
        {
          rule: `!(${onCpuPool}) || !has(self.${kind}.init) || !self.${kind}.init.exists(c, ${asksForGpu('c')})`,
          message: `an init container asks for ${GPU_RESOURCE} on a CPU pool; ${useGpuPool}`,
          fieldPath: `.${kind}.init`,
          reason: 'FieldValueInvalid',
        },
      ];
    }),
  ];
}

/** CEL rules on spec: the checks a schema alone cannot express. */
export function runSpecRules(pools: readonly RunPoolInfo[]): CelRule[] {
  return [
    ...leafRules(pools, RUN_KIND_NAMES),
    forbidden(
      "!has(self.matrix) || self.kind != 'dag'",
      '.matrix',
      "a matrix sweeps a leaf kind, not a dag; give a dag's operations a matrix each in their template instead",
    ),
    forbidden(
      '!(has(self.resumeFrom) && has(self.copyFrom))',
      '.copyFrom',
      'a run resumes an earlier run (resumeFrom) or starts with a copy of its outputs (copyFrom), not both',
    ),
    ...(['resumeFrom', 'copyFrom'] as const).map((field) =>
      forbidden(
        `!has(self.${field}) || (self.kind != 'dag' && !has(self.matrix) && !has(self.schedule))`,
        `.${field}`,
        `${field} is for a job or service run; a dag, a sweep or a schedule makes runs of its own`,
      ),
    ),
  ];
}

/** CEL rules on a composite run's template: the same as on a leaf run's spec. */
export function runTemplateRules(pools: readonly RunPoolInfo[]): CelRule[] {
  return leafRules(pools, LEAF_KIND_NAMES);
}

/** Whether the stored run is a parent: the CEL form of isParentRun (composition.ts). */
const WAS_PARENT = "has(oldSelf.matrix) || has(oldSelf.schedule) || oldSelf.kind == 'dag'";

const FROZEN_JOB =
  'a job run cannot change once submitted: its Job is made once, from the run as first applied. Only spec.stopped may change; submit a new run instead';
const FROZEN_PARENT =
  'a parent run (a dag, a sweep or a schedule) cannot change once submitted: its children were made from it. Only spec.stopped and spec.schedule.suspended may change; submit a new run instead';

/** A CEL check that `field` of `path` is as it was: both absent, or both there and equal. */
const unchanged = (path: string, field: string) =>
  `has(self${path}.${field}) == has(oldSelf${path}.${field}) && (!has(self${path}.${field}) || self${path}.${field} == oldSelf${path}.${field})`;

/**
 * Transition rules on spec: what a submitted run may no longer change. A job's Job is made once,
 * from the run as first applied, so any later edit but a stop would be silently ignored; a service
 * rolls its Deployment to the new spec, but cannot turn into a job. A parent (a dag, a sweep or a
 * schedule) has made children from its spec, so only a stop, or pausing its schedule, may follow.
 * Stopping is final.
 *
 * The API server runs transition rules on every write, status writes included, where the spec
 * cannot have changed: a section frozen for every run that has it (a job's, a dag's, a matrix)
 * is checked by one rule on the section itself (sectionTransitionRules), and only the fields
 * that stay editable on a service are checked here, each under the guard that skips services.
 */
export function runSpecTransitionRules(): CelRule[] {
  const frozen = (field: string, frozenWhen: string, messageExpression: string): CelRule => ({
    rule: `!(${frozenWhen}) || (${unchanged('', field)})`,
    message: 'a job run or a parent run cannot change once submitted, but for spec.stopped and spec.schedule.suspended',
    messageExpression,
    fieldPath: `.${field}`,
    reason: 'FieldValueForbidden',
  });
  // The fields every run shares; the sections frozen wherever they are have rules of their own.
  const shared = Object.keys(RunSpec.properties).filter(
    (f) => !['kind', 'stopped', 'schedule', 'matrix', 'dag', ...LEAF_KIND_NAMES].includes(f),
  );
  const byWhat = `oldSelf.kind == 'job' && !(${WAS_PARENT}) ? '${FROZEN_JOB}' : '${FROZEN_PARENT}'`;
  return [
    forbidden('self.kind == oldSelf.kind', '.kind', "a run's kind cannot change; submit a new run"),
    forbidden(
      'has(self.matrix) == has(oldSelf.matrix)',
      '.matrix',
      'a run cannot become a sweep, or stop being one, once submitted; submit a new run',
    ),
    forbidden(
      'has(self.schedule) == has(oldSelf.schedule)',
      '.schedule',
      'a run cannot become a schedule, or stop being one, once submitted; submit a new run',
    ),
    ...shared.map((field) => frozen(field, `oldSelf.kind == 'job' || ${WAS_PARENT}`, byWhat)),
    // A service's section follows its edits, unless the service is a sweep's or a schedule's template.
    ...LEAF_KIND_NAMES.filter((kind) => kind !== 'job').map((kind) => frozen(kind, WAS_PARENT, `'${FROZEN_PARENT}'`)),
    forbidden(
      '!has(oldSelf.stopped) || !oldSelf.stopped || (has(self.stopped) && self.stopped)',
      '.stopped',
      'a stopped run stays stopped; submit a new run to run it again',
    ),
  ];
}

/**
 * Transition rules on the sections frozen wherever they are: on the section itself, so that each
 * is one comparison, made only for runs that have it.
 */
export function sectionTransitionRules(): Record<string, CelRule[]> {
  const same = (message: string): CelRule[] => [{ rule: 'self == oldSelf', message, reason: 'FieldValueForbidden' }];
  return {
    job: same(
      "a job run cannot change once submitted: its Job, or its sweep's or schedule's children, are made from it. Only spec.stopped may change; submit a new run instead",
    ),
    dag: same(FROZEN_PARENT),
    matrix: same(FROZEN_PARENT),
    schedule: Object.keys(Schedule.properties)
      .filter((f) => f !== 'suspended')
      .map((field) =>
        forbidden(
          unchanged('', field),
          `.${field}`,
          'a schedule cannot change once submitted, but for spec.schedule.suspended; submit a new run instead',
        ),
      ),
  };
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

/** The template of a dag's operations, inside a plain copy of the spec schema. */
function templateOf(spec: Record<string, unknown>): Record<string, unknown> {
  const at = (schema: unknown, key: string) =>
    (schema as { properties: Record<string, Record<string, unknown>> }).properties[key];
  const operations = at(at(spec, 'dag'), 'operations') as { items: Record<string, unknown> };
  return at(operations.items, 'template') as Record<string, unknown>;
}

/**
 * A run may name only a name the platform defines (`names`): the field's enum lists them. With none
 * defined, an enum could not be empty, so a rule on the object holding the field refuses any.
 */
function restrictName(
  holder: Record<string, unknown>,
  field: string,
  names: readonly string[],
  noneDefined: string,
): CelRule[] {
  const properties = holder['properties'] as Record<string, Record<string, unknown>>;
  if (names.length > 0) {
    properties[field] = { ...properties[field], enum: [...names] };
    return [];
  }
  return [forbidden(`!has(self.${field})`, `.${field}`, noneDefined)];
}

/** The Run CRD, built from the schema in run.ts and what the platform defines. */
export function runCustomResourceDefinition(platform: RunPlatformInfo) {
  const { pools, connections } = platform;
  const spec = plain(RunSpec);
  const template = templateOf(spec);
  // A run, and every template it holds, may name only the platform's pools, connections, priority
  // classes and accounts.
  const restrictToPlatform = (schema: Record<string, unknown>): CelRule[] => {
    const properties = schema['properties'] as Record<string, Record<string, unknown>>;
    properties['pool'] = { ...properties['pool'], enum: pools.map((p) => p.name) };
    const environment = properties['environment'] as Record<string, unknown>;
    const environmentRules = [
      ...restrictName(
        environment,
        'priorityClassName',
        platform.priorityClasses,
        'this platform defines no run priority classes; a platform engineer adds them under runs.priorityClasses in the environment config',
      ),
      ...restrictName(
        environment,
        'serviceAccountName',
        platform.serviceAccounts,
        "no team of this platform has accounts of its own for runs, which run as the platform's run account; a platform engineer adds them under the team's serviceAccounts in the environment config",
      ),
    ];
    // Only when there are rules: the API server drops an empty list, which would read back as a
    // change on every later apply or preview.
    if (environmentRules.length > 0) environment['x-kubernetes-validations'] = environmentRules;
    return restrictConnections(properties['connections'] as { items: Record<string, unknown> }, connections);
  };
  template['x-kubernetes-validations'] = [...runTemplateRules(pools), ...restrictToPlatform(template)];
  spec['x-kubernetes-validations'] = [...runSpecRules(pools), ...restrictToPlatform(spec), ...runSpecTransitionRules()];
  const sections = spec['properties'] as Record<string, Record<string, unknown>>;
  for (const [section, rules] of Object.entries(sectionTransitionRules())) {
    const schema = sections[section];
    if (!schema) throw new Error(`the Run spec has no section ${section}`);
    schema['x-kubernetes-validations'] = [...((schema['x-kubernetes-validations'] as CelRule[]) ?? []), ...rules];
  }

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
            { name: 'Kind', type: 'string', jsonPath: '.status.kind' },
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
                "A job, service or dag of an ML team, possibly swept or scheduled, launched by the platform's controller on the platform's node pools.",
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
