import { PLINTH_LABELS } from '../../model/labels.js';
import type { TeamDefaults } from '../api/platform-defaults.js';
import type { RunPhase, RunSpec, RunStatus } from '../api/run.js';
import { PLATFORM_VERSION } from '../../model/platform-version.js';
import type { MlflowRunStatus, MlflowTag } from './mlflow-client.js';

/**
 * What the MLflow run of a Run holds, and when a run stops waiting for it: pure functions, which
 * the tracker (run-tracker.ts) calls with what it observed.
 */

/** Each team's runs go to one experiment, named after the team. */
export const teamExperimentName = (team: string): string => `teams/${team}`;

/**
 * The experiment's artifact location, under the team's outputs: a run's `mlflow.log_artifact`
 * writes there with the team's own store credential, which reaches no other team's prefix.
 */
export const teamExperimentArtifacts = (team: TeamDefaults): string => `${team.artifacts.outputs.uri}/mlflow`;

/** The tag an MLflow run is found by: the Run's uid, which a re-created Run of the same name does not share. */
export const RUN_UID_TAG = PLINTH_LABELS.runUid;

/** What an MLflow run is made with. */
export interface MlflowRunRecord {
  readonly name: string;
  readonly tags: readonly MlflowTag[];
  readonly params: readonly MlflowTag[];
}

/** The MLflow run of a Run: named after it, tagged with what finds and classifies it, with its params. */
export function mlflowRunRecord(
  run: { metadata: { name: string; uid?: string }; spec: Pick<RunSpec, 'kind' | 'params'> },
  team: string,
  pool: string | undefined,
): MlflowRunRecord {
  return {
    name: run.metadata.name,
    tags: [
      { key: RUN_UID_TAG, value: String(run.metadata.uid) },
      { key: PLINTH_LABELS.team, value: team },
      { key: 'plinth.dev/kind', value: run.spec.kind },
      ...(pool ? [{ key: 'plinth.dev/pool', value: pool }] : []),
      { key: PLATFORM_VERSION_TAG, value: PLATFORM_VERSION },
    ],
    params: (run.spec.params ?? []).map((p) => ({ key: p.name, value: p.value })),
  };
}

/** The version of the platform that made the run's workload. */
export const PLATFORM_VERSION_TAG = 'plinth.dev/platform-version';

/**
 * What a finished run's MLflow run records of exactly what ran: each container's image by the id
 * the kubelet ran, one tag each (`plinth.dev/image/<container>`).
 */
export const ranTags = (images: RunStatus['images']): MlflowTag[] =>
  (images ?? []).map((i) => ({ key: `plinth.dev/image/${i.container}`, value: i.imageID }));

/** MLflow takes at most 100 params in one log-batch; a Run may have 128. */
export const PARAMS_PER_BATCH = 100;

/** How a finished run's MLflow run ends. */
export const MLFLOW_END: Readonly<Record<Extract<RunPhase, 'succeeded' | 'failed' | 'stopped'>, MlflowRunStatus>> = {
  succeeded: 'FINISHED',
  failed: 'FAILED',
  stopped: 'KILLED',
};

/** The MLflow run's page in the tracking server's UI. */
export const mlflowRunUrl = (uiUrl: string, experimentId: string, runId: string): string =>
  `${uiUrl.replace(/\/$/, '')}/#/experiments/${experimentId}/runs/${runId}`;

/** Whether a run still waits for its MLflow run before its workload starts. */
export type TrackingWait = { readonly waiting: true; readonly retryMs: number } | { readonly waiting: false };

/** How soon a waiting run is looked at again: its MLflow run is usually made within a second. */
const RECHECK_MS = 1000;

/**
 * A run waits at most `waitMs` from when its workload was first wanted. During an outage that
 * began earlier, it waits only what is left of the outage's own first `waitMs`: once the server is
 * known not to answer, new runs do not each wait the whole time again.
 */
export function trackingWait(input: {
  readonly now: number;
  readonly wantedSince: number;
  readonly outageSince: number | undefined;
  readonly waitMs: number;
}): TrackingWait {
  const since = Math.min(input.wantedSince, input.outageSince ?? input.wantedSince);
  const left = since + input.waitMs - input.now;
  return left > 0 ? { waiting: true, retryMs: Math.min(left, RECHECK_MS) } : { waiting: false };
}
