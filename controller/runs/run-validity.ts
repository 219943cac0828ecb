import type { PlatformDefaults, TeamDefaults } from '../api/platform-defaults.js';
import { REASON, type RunReason } from '../api/reasons.js';
import type { Run } from '../api/run.js';
import { effectivePool } from './effective-pool.js';

export interface Invalidity {
  readonly reason: RunReason;
  readonly message: string;
}

/**
 * Why a run can never start as written, though the CRD let it in: its namespace is no team's, or
 * the platform's config has changed since it was submitted. Undefined when it can start.
 */
export function invalidity(
  run: Run,
  team: TeamDefaults | undefined,
  defaults: PlatformDefaults,
): Invalidity | undefined {
  const namespace = run.metadata.namespace ?? '';
  if (!team) {
    return { reason: REASON.NotATeamNamespace, message: `namespace ${namespace} belongs to no team of this platform` };
  }
  const { pool, missing } = effectivePool(run, team);
  if (pool === undefined) return { reason: REASON.NoSuitablePool, message: missing };
  if (!team.pools.includes(pool)) {
    return {
      reason: REASON.PoolNotAllowed,
      message: `team ${team.team} may not use pool "${pool}"; allowed: ${team.pools.join(', ')}`,
    };
  }
  // The platform's connections first: a team's are a subset of them.
  const known = Object.keys(defaults.connections);
  const named = run.spec.connections ?? [];
  const outside = (allowed: string[]) =>
    named
      .filter((name) => !allowed.includes(name))
      .map((n) => `"${n}"`)
      .join(', ');
  const unknown = outside(known);
  if (unknown) {
    return {
      reason: REASON.UnknownConnection,
      message: `this platform defines no connection ${unknown}; defined: ${known.join(', ') || 'none'}`,
    };
  }
  const denied = outside(team.connections);
  if (denied) {
    return {
      reason: REASON.ConnectionNotAllowed,
      message: `team ${team.team} may not use connection ${denied}; allowed: ${team.connections.join(', ') || 'none'}`,
    };
  }
  return undefined;
}
