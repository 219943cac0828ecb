import type { ArtifactStore } from './config/artifact-store.js';
import { teamArtifactConnection } from './artifacts.js';

/**
 * A run's outputs (README, Outputs): every container gets PLINTH_RUN_OUTPUTS_URI, the store URI of
 * the run's own prefix (`<prefix>/outputs/<team>/<run-uid>`), and where the store is S3,
 * PLINTH_RUN_OUTPUTS_PATH, a writable directory the platform copies to that URI while the run runs
 * and once its containers have exited. Bounded like the scratch space, but larger: checkpoints and
 * models go there.
 */
export const RUN_OUTPUTS = {
  volume: 'plinth-outputs',
  mountPath: '/plinth/outputs',
  sizeLimit: '20Gi',
  uriEnv: 'PLINTH_RUN_OUTPUTS_URI',
  pathEnv: 'PLINTH_RUN_OUTPUTS_PATH',
} as const;

/** How a team's runs keep their outputs: the URI their run prefixes go under, and whether a path is copied there. */
export interface TeamOutputs {
  /** The team's outputs (`s3://bucket/plinth/outputs/vision`); a run's are under `<uri>/<run-uid>`. */
  readonly uri: string;
  /**
   * Whether the platform copies PLINTH_RUN_OUTPUTS_PATH to the store: on S3 stores, with the
   * `init` image's boto3. A GCS store gives the URI alone for now, and a volume store is a claim
   * the run writes itself.
   */
  readonly synced: boolean;
}

export function teamOutputs(store: ArtifactStore, team: string): TeamOutputs {
  return { uri: teamArtifactConnection(store, team).uri, synced: store.kind === 's3' };
}

/** One run's outputs URI. */
export const runOutputsUri = (outputs: TeamOutputs, runUid: string): string => `${outputs.uri}/${runUid}`;
