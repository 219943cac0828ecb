import type { V1Toleration } from '@kubernetes/client-node';
import type { NodePool, Taint } from './config/node-pools.js';
import type { PlatformConfig } from './config/schema.js';
import type { Team } from './config/teams.js';

/** The taint every GPU node carries unless an environment configures its own. */
export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;
/** The extended resource GPU nodes advertise and runs request. */
export const GPU_RESOURCE = 'nvidia.com/gpu';
/** The label every pool's nodes carry, so a pool can always be selected by name. */
export const POOL_LABEL = 'plinth.dev/pool';

/** Where a workload goes: the pool's node selector and the tolerations for its taints. */
export interface Placement {
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: V1Toleration[];
}

/** The labels a pool's nodes carry: the pool label, the configured ones, and the GPU product. */
export function nodeLabels(name: string, pool: NodePool): Record<string, string> {
  return {
    ...pool.labels,
    ...(pool.role === 'gpu' ? { 'nvidia.com/gpu.product': pool.accelerator } : {}),
    [POOL_LABEL]: name,
  };
}

export function toleration(taint: Taint): V1Toleration {
  return taint.value === undefined
    ? { key: taint.key, operator: 'Exists', effect: taint.effect }
    : { key: taint.key, operator: 'Equal', value: taint.value, effect: taint.effect };
}

export function poolPlacement(config: PlatformConfig, poolName: string): Placement {
  const pool = config.nodePools[poolName];
  if (!pool) throw new Error(`node pool "${poolName}" is not defined`);
  return { nodeSelector: { [POOL_LABEL]: poolName }, tolerations: pool.taints.map(toleration) };
}

/** The one pool of the platform's own services. */
export function corePoolName(config: PlatformConfig): string {
  const [core] = poolsWithRole(config, 'core');
  if (core === undefined) throw new Error('no core pool defined');
  return core;
}

/** Core services: the core pool only, tolerating its dedicated taint and nothing else. */
export function corePlacement(config: PlatformConfig): Placement {
  return poolPlacement(config, corePoolName(config));
}

/** The names of the pools with one of `roles`, in a stable order. */
function poolsWithRole(config: PlatformConfig, ...roles: NodePool['role'][]): string[] {
  return Object.entries(config.nodePools)
    .filter(([, p]) => roles.includes(p.role))
    .map(([name]) => name)
    .sort();
}

/** Pools runs may use: every cpu and gpu pool. */
export const runPools = (config: PlatformConfig): string[] => poolsWithRole(config, 'cpu', 'gpu');

/** Pools whose nodes have GPUs, carry the GPU taint and advertise GPU_RESOURCE. */
export const gpuPools = (config: PlatformConfig): string[] => poolsWithRole(config, 'gpu');

/** Whether runs on this pool get GPU nodes. */
export const isGpuPool = (config: PlatformConfig, pool: string): boolean => config.nodePools[pool]?.role === 'gpu';

/** The pools a team's runs may use: its own list, or every run pool. */
export const teamPools = (config: PlatformConfig, team: Team): string[] => team.pools ?? runPools(config);

/**
 * Where a team's runs that name no pool go, or undefined where the team has no pool that fits:
 * `gpu` for runs asking for GPUs (teams[].defaultGpuPool, else the team's first GPU pool), `cpu`
 * for the others (teams[].defaultPool, else runs.defaultPool if the team may use it, else its
 * first cpu pool).
 */
export function teamDefaultPools(config: PlatformConfig, team: Team): { cpu?: string; gpu?: string } {
  const pools = teamPools(config, team);
  const platformDefault = pools.includes(config.runs.defaultPool) ? config.runs.defaultPool : undefined;
  return {
    cpu: team.defaultPool ?? platformDefault ?? pools.find((p) => !isGpuPool(config, p)),
    gpu: team.defaultGpuPool ?? pools.find((p) => isGpuPool(config, p)),
  };
}
