import type { PlatformConfigInput } from '../../model/config/schema.js';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults } from '../../controller/api/platform-defaults.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { renderPlatform } from '../../constructs/platform.js';
import { environments } from '../../stacks/environments/index.js';
import { CONTROLLER_COMPONENT } from '../../model/names.js';

/** A Kubernetes object as synthesized: loosely typed, read by field path in tests. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

export const ENVIRONMENTS = Object.keys(environments);

export function configOf(env: string) {
  return validatePlatformConfig(env, environments[env]);
}

export function objectsOf(env: string): K8sObject[] {
  return renderPlatform(configOf(env)).flatMap((c) => c.objects as K8sObject[]);
}

/**
 * The local platform as the cluster suites share it: the in-cluster controller at no replicas, so
 * that each suite's own controller (test/support/controller.ts) is the only one reconciling Runs,
 * and without the logs API's APIService, which no replica would serve: an aggregated API that does
 * not answer holds up every namespace's deletion (the namespace controller must list everything in
 * it). The logs API suite registers its own, for the controller it runs. The platform suite runs
 * the in-cluster one on the real core nodes, then puts this back.
 */
export function sharedPlatformObjects(objects: K8sObject[] = objectsOf('local')): K8sObject[] {
  return objects
    .filter((object) => object.kind !== 'APIService')
    .map((object) =>
      object.kind === 'Deployment' && object.metadata.name === CONTROLLER_COMPONENT
        ? { ...object, spec: { ...(object['spec'] as object), replicas: 0 } }
        : object,
    );
}

export function renderInput(input: PlatformConfigInput): K8sObject[] {
  return renderPlatform(validatePlatformConfig(input.name, input)).flatMap((c) => c.objects as K8sObject[]);
}

/** The run defaults as the controller reads them: from the synthesized ConfigMap, through JSON. */
export function runDefaultsOf(env: string, objects: K8sObject[] = objectsOf(env)): PlatformDefaults {
  const map = find(objects, 'ConfigMap', 'plinth-controller') as unknown as { data: Record<string, string> };
  return JSON.parse(map.data[PLATFORM_DEFAULTS_KEY] ?? '{}') as PlatformDefaults;
}

export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(objects: K8sObject[], kind: string, name: string, namespace?: string): K8sObject {
  const found = objects.find(
    (o) =>
      o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace),
  );
  if (!found) throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
  return found;
}

/** Pod specs of every workload, with the object that carries them. */
export function podSpecs(objects: K8sObject[]): { owner: K8sObject; spec: PodSpec }[] {
  type Template = { template: { spec: PodSpec } };
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind))
    .map((owner) => {
      const spec = (owner as unknown as { spec: Template & { jobTemplate?: { spec: Template } } }).spec;
      return { owner, spec: (owner.kind === 'CronJob' ? spec.jobTemplate?.spec : spec)?.template.spec as PodSpec };
    });
}

export interface PodSpec {
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  affinity?: Record<string, unknown>;
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Record<string, unknown>[];
}

export interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  args?: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
}

/** A deep copy of an environment's input, to break in a test. */
export function inputOf(env: string): PlatformConfigInput {
  return structuredClone(environments[env]) as PlatformConfigInput;
}
