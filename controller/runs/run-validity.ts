import { ApiException } from '@kubernetes/client-node';
import type { PlatformDefaults, TeamDefaults } from '../api/platform-defaults.js';
import { REASON, type RunReason } from '../api/reasons.js';
import type { LeafRunSummary } from './cached-run.js';
import { asksForGpu, effectivePool } from './effective-pool.js';
import { GPU_RESOURCE } from '../../model/pools.js';

export interface Invalidity {
  readonly reason: RunReason;
  readonly message: string;
}

/**
 * Why a run can never start as written, though the CRD let it in: its namespace is no team's, or
 * the platform's config has changed since it was submitted. Undefined when it can start.
 */
export function invalidity(
  run: LeafRunSummary,
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
  if (defaults.pools[pool]?.gpu === true && !asksForGpu(run)) {
    return {
      reason: REASON.GpuPoolWithoutGpu,
      message: `pool "${pool}" is a GPU pool, but no container of the run asks for ${GPU_RESOURCE}; a run without GPUs goes to a CPU pool`,
    };
  }
  const environment = run.spec.environment ?? {};
  const priorityClass = environment.priorityClassName;
  if (priorityClass !== undefined && !team.priorityClasses.includes(priorityClass)) {
    return {
      reason: REASON.PriorityClassNotAllowed,
      message: `team ${team.team} may not use priority class "${priorityClass}" (spec.environment.priorityClassName); allowed: ${team.priorityClasses.join(', ') || 'none'}`,
    };
  }
  const account = environment.serviceAccountName;
  if (account !== undefined && !(account in team.serviceAccounts)) {
    const allowed = Object.keys(team.serviceAccounts);
    return {
      reason: REASON.ServiceAccountNotAllowed,
      message: `team ${team.team}'s runs may not act as "${account}" (spec.environment.serviceAccountName); allowed: ${allowed.join(', ') || "none: runs act as the platform's run account"}`,
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

/**
 * HTTP codes by which the API server refuses an object for what it says, whatever the moment:
 * 422 Invalid (a field fails validation) and 400 BadRequest (the object is malformed). Applying it
 * again can only fail again. Every other failure (a conflict, throttling, the server or network
 * failing) may pass on a retry.
 */
const REFUSED_CODES: ReadonlySet<number> = new Set([400, 422]);

/**
 * Server-side apply answers 500 when it cannot even build the patch from the object sent, such as a
 * list-map with two entries of one key (two container ports on one port): the object is at fault,
 * so a retry fails the same way. The CRD refuses the cases known; this keeps any other from
 * looping.
 */
function unappliable(error: ApiException<unknown>): boolean {
  return error.code === 500 && String(JSON.stringify(error.body)).includes('failed to create typed patch object');
}

/** A run found unable to start while its workload was being built: the run fails with its reason. */
export class RunRefusal extends Error {
  constructor(readonly invalidity: Invalidity) {
    super(invalidity.message);
  }
}

/**
 * Why a run can never start, when applying a child it wants failed: the API server refused the
 * child for its content, and says which field. Undefined for a failure a retry may mend.
 */
export function workloadRefusal(error: unknown): Invalidity | undefined {
  if (error instanceof RunRefusal) return error.invalidity;
  if (!(error instanceof ApiException) || !(REFUSED_CODES.has(error.code) || unappliable(error))) return undefined;
  const body: unknown = error.body;
  const serverMessage =
    typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : typeof body === 'string' && body
        ? body
        : error.message;
  return {
    reason: REASON.InvalidWorkload,
    message: `the API server refused the run's workload: ${serverMessage}`,
  };
}
