import { GPU_RESOURCE } from '../../model/pools.js';
import type { TeamDefaults } from '../api/platform-defaults.js';
import type { LeafRunSummary } from './cached-run.js';
import { kindOf } from './kinds/registry.js';

/** The pool a run goes to, or why a run naming none has nowhere to go. */
export type EffectivePool =
  { readonly pool: string; readonly missing?: undefined } | { readonly pool?: undefined; readonly missing: string };

/** Whether any container of the run, init containers included, asks for GPUs. */
export const asksForGpu = (run: LeafRunSummary): boolean => kindOf(run.spec.kind).gpus(run) > 0;

/**
 * Where a run goes: the pool it names, else its team's default GPU pool if it asks for GPUs, else
 * its team's default pool. The constructs resolved the team's defaults from the config; whether
 * the team may use a pool the run names is the validity check's to say.
 */
export function effectivePool(run: LeafRunSummary, team: TeamDefaults): EffectivePool {
  if (run.spec.pool !== undefined) return { pool: run.spec.pool };
  const pools = team.pools.join(', ') || 'none';
  if (asksForGpu(run)) {
    return team.defaultGpuPool !== null
      ? { pool: team.defaultGpuPool }
      : {
          missing: `the run names no pool and asks for ${GPU_RESOURCE}, but team ${team.team} may use no GPU pool; its pools: ${pools}`,
        };
  }
  return team.defaultPool !== null
    ? { pool: team.defaultPool }
    : {
        missing: `the run names no pool and team ${team.team} has no default pool; name one of its pools in spec.pool: ${pools}`,
      };
}
