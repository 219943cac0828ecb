import type { PolicyResource } from './resource.js';
import type { CheckContext, Finding, Rule } from './rule.js';

/** Kinds that carry a pod template, and where their pod spec is. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
export const WORKLOAD_KINDS = Object.keys(POD_SPEC_PATHS);

export interface Container {
  name?: string;
  image?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown> & { seccompProfile?: { type?: string } };
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  volumes?: Record<string, unknown>[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
}

/** A workload's pod spec and the field path to it. */
export interface PodAt {
  readonly spec: PodSpec;
  readonly path: string;
}

/** The pod spec of a workload and the path to it, or undefined for other kinds. */
export function podSpecOf(r: PolicyResource): PodAt | undefined {
  const path = POD_SPEC_PATHS[r.kind];
  if (!path) return undefined;
  let node: unknown = r.body;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  return node ? { spec: node as PodSpec, path: path.join('.') } : undefined;
}

/** Every container with its field path. */
export function containersOf(pod: PodAt): { container: Container; path: string }[] {
  return [
    ...(pod.spec.initContainers ?? []).map((container, i) => ({ container, path: `${pod.path}.initContainers[${i}]` })),
    ...(pod.spec.containers ?? []).map((container, i) => ({ container, path: `${pod.path}.containers[${i}]` })),
  ];
}

/** A rule about workloads' pod specs: it looks at every kind that carries one, and is handed the spec. */
export function workloadRule(
  rule: Omit<Rule, 'kinds' | 'check'> & {
    check(pod: PodAt, resource: PolicyResource, context: CheckContext): Finding[];
  },
): Rule {
  const { check, ...described } = rule;
  return {
    ...described,
    kinds: WORKLOAD_KINDS,
    check(resource, context) {
      const pod = podSpecOf(resource);
      return pod ? check(pod, resource, context) : [];
    },
  };
}
