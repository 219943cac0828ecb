import type { PlatformDefaults, TeamDefaults } from '../api/platform-defaults.js';
import { REASON } from '../api/reasons.js';
import type { Run } from '../api/run.js';
import type { Invalidity } from './run-validity.js';

/** The earlier run whose outputs a run starts with, resolved to its uid, and how. */
export interface OutputsSource {
  /** resume: the run's outputs are the earlier run's; copy: a copy of them starts its own. */
  readonly mode: 'resume' | 'copy';
  readonly uid: string;
}

/** How the reconciler finds runs: by name in a namespace, or by uid anywhere. */
export interface RunLookup {
  byName(namespace: string, name: string): { uid: string } | undefined;
  byUid(uid: string): { namespace: string; name: string } | undefined;
}

/**
 * Resolves spec.resumeFrom or spec.copyFrom: a name must be a run of the namespace; a uid of a run
 * the controller knows must be one of the same namespace. A uid it does not know is taken as a
 * deleted run of the team's: its outputs are under the team's prefix, which is all the team's
 * credential reaches, so no other team's can be read, and the restore step says if none are there.
 */
export function outputsSource(
  run: Pick<Run, 'metadata' | 'spec'>,
  team: TeamDefaults,
  defaults: Pick<PlatformDefaults, 'teams'>,
  runs: RunLookup,
): OutputsSource | Invalidity | undefined {
  const [field, mode] = run.spec.resumeFrom
    ? (['resumeFrom', 'resume'] as const)
    : run.spec.copyFrom
      ? (['copyFrom', 'copy'] as const)
      : [undefined, undefined];
  if (!field) return undefined;
  const source = run.spec[field] ?? {};
  const namespace = run.metadata.namespace ?? '';
  if (!team.artifacts.outputs.synced) {
    return {
      reason: REASON.OutputsSourceNotAllowed,
      message: `spec.${field}: this platform's store keeps no copies of runs' outputs (an S3 store does), so no run can start with another's`,
    };
  }
  if (source.name !== undefined) {
    const found = runs.byName(namespace, source.name);
    if (!found) {
      return {
        reason: REASON.OutputsSourceNotFound,
        message: `spec.${field}.name: no run "${source.name}" in namespace ${namespace}; name a run of team ${team.team}, or give the uid of one whose outputs are kept`,
      };
    }
    return { mode, uid: found.uid };
  }
  const uid = source.uid ?? '';
  const known = runs.byUid(uid);
  if (known && known.namespace !== namespace) {
    const other = defaults.teams[known.namespace]?.team;
    return {
      reason: REASON.OutputsSourceNotAllowed,
      message: `spec.${field}.uid: run ${uid} is ${other ? `team ${other}'s` : `in namespace ${known.namespace}`}; a run starts only with outputs of its own team's runs`,
    };
  }
  return { mode, uid };
}

/** Whether a resolution is a refusal. */
export const isInvalidity = (value: OutputsSource | Invalidity | undefined): value is Invalidity =>
  value !== undefined && 'reason' in value;
