import type { k8s } from 'cdk8s-plus-28';
import { POOL_LABEL, type NodePool, type PlatformConfig, type Taint } from './config/schema.js';

/** Where a workload goes: the pool's node selector and the tolerations for its taints. */
export interface Placement {
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: k8s.Toleration[];
}

/** The labels a pool's nodes carry: the pool label, the configured ones, and the GPU product. */
export function nodeLabels(name: string, pool: NodePool): Record<string, string> {
  return {
    ...pool.labels,
    ...(pool.role === 'gpu' ? { 'nvidia.com/gpu.product': pool.accelerator } : {}),
    [POOL_LABEL]: name,
  };
}

export function toleration(taint: Taint): k8s.Toleration {
  return taint.value === undefined
    ? { key: taint.key, operator: 'Exists', effect: taint.effect }
    : { key: taint.key, operator: 'Equal', value: taint.value, effect: taint.effect };
}

export function poolPlacement(config: PlatformConfig, poolName: string): Placement {
  const pool = config.nodePools[poolName];
  if (!pool) throw new Error(`node pool "${poolName}" is not defined`);
  return { nodeSelector: { [POOL_LABEL]: poolName }, tolerations: pool.taints.map(toleration) };
}

export function corePoolName(config: PlatformConfig): string {
  const entry = Object.entries(config.nodePools).find(([, p]) => p.role === 'core');
  if (!entry) throw new Error('no core pool defined');
  return entry[0];
}

/** Core services: the core pool only, tolerating its dedicated taint and nothing else. */
export function corePlacement(config: PlatformConfig): Placement {
  return poolPlacement(config, corePoolName(config));
}

/** Pools runs may use, in a stable order. */
export function runPools(config: PlatformConfig): string[] {
  return Object.entries(config.nodePools)
    .filter(([, p]) => p.role !== 'core')
    .map(([name]) => name)
    .sort();
}

/** Spread a component's replicas across nodes: required, so one node loss never takes all. */
export function spreadAcrossNodes(selector: Record<string, string>): k8s.Affinity {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
}
