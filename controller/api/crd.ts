import { RUN_GROUP, RUN_KIND, RUN_PLURAL, RUN_VERSION, RunSpec, RunStatus } from './run.js';
import { GPU_RESOURCE } from '../../constructs/config/schema.js';
import type { CelRule } from './schema-helpers.js';

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

/** CEL rules on spec: the checks a schema alone cannot express. */
export function runSpecRules(pools: readonly RunPoolInfo[]): CelRule[] {
  const cpuPools = pools.filter((p) => !p.gpu).map((p) => `'${p.name}'`);
  const gpuPools = pools.filter((p) => p.gpu).map((p) => p.name);
  const asksForGpu =
    `has(self.container.resources) && ((has(self.container.resources.limits) && ${GPU_KEY} in self.container.resources.limits) || ` +
    `(has(self.container.resources.requests) && ${GPU_KEY} in self.container.resources.requests))`;
  return [
    {
      rule: "self.kind != 'job' || (!has(self.ports) && !has(self.replicas))",
      message: 'a job run cannot have ports or replicas; use kind: service for a long-running server',
      fieldPath: '.ports',
      reason: 'FieldValueForbidden',
    },
    {
      rule: "self.kind != 'service' || (has(self.ports) && size(self.ports) > 0)",
      message: 'a service run needs at least one port',
      fieldPath: '.ports',
      reason: 'FieldValueRequired',
    },
    {
      rule: `!(self.pool in [${cpuPools.join(', ')}]) || !(${asksForGpu})`,
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
    {
      rule: 'self.kind == oldSelf.kind',
      message: "a run's kind cannot change; submit a new run",
      fieldPath: '.kind',
      reason: 'FieldValueForbidden',
    },
    ...frozenInJobs.map((field): CelRule => ({
      rule: `oldSelf.kind != 'job' || (${unchanged(field)})`,
      message:
        'a job run cannot change once submitted: its Job is made once, from the run as first applied. Only spec.stopped may change; submit a new run instead',
      fieldPath: `.${field}`,
      reason: 'FieldValueForbidden',
    })),
    {
      rule: '!has(oldSelf.stopped) || !oldSelf.stopped || (has(self.stopped) && self.stopped)',
      message: 'a stopped run stays stopped; submit a new run to run it again',
      fieldPath: '.stopped',
      reason: 'FieldValueForbidden',
    },
  ];
}

/** A rule that forbids one field's values below the security floor. */
const floor = (rule: string, field: string, message: string): CelRule => ({
  rule,
  message,
  fieldPath: `.${field}`,
  reason: 'FieldValueForbidden',
});

/**
 * CEL rules on a container's securityContext: the controller would apply the security floor
 * anyway, but a run that asks to go below it is refused at apply time, naming the field, rather
 * than started with settings it did not ask for.
 */
export const SECURITY_FLOOR_RULES: readonly CelRule[] = [
  floor(
    '!has(self.runAsUser) || self.runAsUser > 0',
    'runAsUser',
    "runs never run as root: give a uid of 1 or more, or leave runAsUser out for the platform's",
  ),
  floor(
    '!has(self.runAsGroup) || self.runAsGroup > 0',
    'runAsGroup',
    "runs never run in the root group: give a gid of 1 or more, or leave runAsGroup out for the platform's",
  ),
  floor(
    '!has(self.runAsNonRoot) || self.runAsNonRoot',
    'runAsNonRoot',
    'runs never run as root: runAsNonRoot can only be true',
  ),
  floor(
    '!has(self.privileged) || !self.privileged',
    'privileged',
    'runs are never privileged: privileged can only be false',
  ),
  floor(
    '!has(self.allowPrivilegeEscalation) || !self.allowPrivilegeEscalation',
    'allowPrivilegeEscalation',
    'runs cannot gain privileges: allowPrivilegeEscalation can only be false',
  ),
  floor(
    '!has(self.capabilities) || !has(self.capabilities.add) || size(self.capabilities.add) == 0',
    'capabilities.add',
    'runs cannot add capabilities: the platform drops them all',
  ),
  floor(
    "!has(self.seccompProfile) || self.seccompProfile.type == 'RuntimeDefault'",
    'seccompProfile.type',
    'runs use the RuntimeDefault seccomp profile',
  ),
  floor("!has(self.procMount) || self.procMount == 'Default'", 'procMount', 'runs use the Default proc mount'),
];

/** The Run CRD, built from the schema in run.ts and the platform's pools. */
export function runCustomResourceDefinition(pools: readonly RunPoolInfo[]) {
  const spec = plain(RunSpec);
  const properties = spec['properties'] as Record<string, Record<string, unknown>>;
  properties['pool'] = { ...properties['pool'], enum: pools.map((p) => p.name) };
  spec['x-kubernetes-validations'] = [...runSpecRules(pools), ...runSpecTransitionRules()];
  const init = properties['init']?.['items'] as Record<string, unknown>;
  for (const container of [properties['container'], init] as Record<string, unknown>[]) {
    const containerProperties = container['properties'] as Record<string, Record<string, unknown>>;
    containerProperties['securityContext'] = {
      ...containerProperties['securityContext'],
      'x-kubernetes-validations': SECURITY_FLOOR_RULES,
    };
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
            { name: 'Pool', type: 'string', jsonPath: '.spec.pool' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Reason', type: 'string', jsonPath: '.status.reason' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
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
