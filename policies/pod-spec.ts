import type { PolicyResource } from './resource.js';

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

/** The pod spec of a workload and the path to it, or undefined for other kinds. */
export function podSpecOf(r: PolicyResource): { spec: PodSpec; path: string } | undefined {
  const path = POD_SPEC_PATHS[r.kind];
  if (!path) return undefined;
  let node: unknown = r.body;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  return node ? { spec: node as PodSpec, path: path.join('.') } : undefined;
}

/** Every container with its field path. */
export function containersOf(pod: { spec: PodSpec; path: string }): { container: Container; path: string }[] {
  return [
    ...(pod.spec.initContainers ?? []).map((container, i) => ({ container, path: `${pod.path}.initContainers[${i}]` })),
    ...(pod.spec.containers ?? []).map((container, i) => ({ container, path: `${pod.path}.containers[${i}]` })),
  ];
}
