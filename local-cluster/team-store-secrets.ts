import type { KubernetesObject } from '@kubernetes/client-node';
import type { PlatformConfig } from '../model/config/schema.js';
import { teamArtifactStoreSecretName, teamNamespaceName } from '../model/names.js';
import { teamSecretKey } from '../model/store-access.js';
import { storeUserName } from '../constructs/store-users.js';

/**
 * Each team's artifact-store Secret, `artifact-store-<team>`, which every run of the team mounts:
 * on a local cluster nothing else writes them (`pulumi up` does elsewhere), and a run on a real
 * node cannot start without it. The keys are derived from the store admin's exactly as
 * `pulumi up` derives them, so that the store's users, once the store makes them, match.
 */
export function teamStoreSecrets(config: PlatformConfig, adminSecretAccessKey: string): KubernetesObject[] {
  const store = config.artifacts;
  if (store.kind !== 's3' || !('secret' in store.credentials)) return [];
  const { accessKeyIdKey, secretAccessKeyKey } = store.credentials.secret;
  return config.teams.map(
    (team) =>
      ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: teamArtifactStoreSecretName(team.name), namespace: teamNamespaceName(config, team.name) },
        type: 'Opaque',
        stringData: {
          [accessKeyIdKey]: storeUserName(config, team.name),
          [secretAccessKeyKey]: teamSecretKey(adminSecretAccessKey, config.name, team.name),
        },
      }) as KubernetesObject,
  );
}
