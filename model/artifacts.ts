import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ArtifactStore } from './config/artifact-store.js';
import { teamArtifactStoreSecretName } from './names.js';
import { hostDestination, urlPort, type NetworkDestination } from './network-destination.js';
import { storeUri, teamOutputsPrefix, trackingPrefix } from './store-layout.js';

/** Where the artifact store's volume is mounted in run containers; connections may not mount over it. */
export const ARTIFACTS_MOUNT_PATH = '/artifacts';

/**
 * How a pod reaches the artifact store: env, credentials and mounts, derived from config once.
 * There are two kinds of client, each with a credential of its own: the tracking server (the
 * platform's) and each team's runs (the team's, reaching only its prefixes: model/store-access.ts).
 * Credentials are always references (Secret keys or a workload identity), never values.
 */
export interface ArtifactConnection {
  /** Where the client writes: the tracking server's default artifact root, or the team's outputs. */
  readonly uri: string;
  readonly env: V1EnvVar[];
  readonly volumes: V1Volume[];
  readonly volumeMounts: V1VolumeMount[];
  /** Annotations that bind a ServiceAccount to a cloud workload identity. */
  readonly serviceAccountAnnotations: Record<string, string>;
}

const GCS_CREDENTIALS_PATH = '/var/run/secrets/plinth/gcs';

/** Whose credential a connection carries. */
type Client = { readonly kind: 'tracking' } | { readonly kind: 'team'; readonly team: string };

/** The identity a workload identity gives a client: the tracking server's, or the team's own. */
function identityOf(client: Client, platform: string, byTeam: Record<string, string>): string {
  if (client.kind === 'tracking') return platform;
  const identity = byTeam[client.team];
  // Config validation requires one per team, naming the field.
  if (identity === undefined) throw new Error(`no workload identity for team "${client.team}"`);
  return identity;
}

const secretOf = (client: Client, platform: string): string =>
  client.kind === 'tracking' ? platform : teamArtifactStoreSecretName(client.team);

function keyPrefixOf(client: Client, prefix: string): string {
  return client.kind === 'tracking' ? trackingPrefix(prefix) : teamOutputsPrefix(prefix, client.team);
}

function connection(store: ArtifactStore, client: Client): ArtifactConnection {
  switch (store.kind) {
    case 's3': {
      const uri = storeUri('s3', store.bucket, keyPrefixOf(client, store.prefix));
      const env: V1EnvVar[] = [
        { name: 'PLINTH_ARTIFACTS_URI', value: uri },
        { name: 'AWS_REGION', value: store.region },
      ];
      if (store.endpoint) {
        env.push({ name: 'AWS_ENDPOINT_URL_S3', value: store.endpoint });
        env.push({ name: 'MLFLOW_S3_ENDPOINT_URL', value: store.endpoint });
      }
      if ('secret' in store.credentials) {
        const { accessKeyIdKey, secretAccessKeyKey } = store.credentials.secret;
        const name = secretOf(client, store.credentials.secret.name);
        env.push({ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name, key: accessKeyIdKey } } });
        env.push({ name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name, key: secretAccessKeyKey } } });
      }
      return {
        uri,
        env,
        volumes: [],
        volumeMounts: [],
        serviceAccountAnnotations:
          'workloadIdentity' in store.credentials
            ? {
                'eks.amazonaws.com/role-arn': identityOf(
                  client,
                  store.credentials.workloadIdentity.roleArn,
                  store.credentials.workloadIdentity.teamRoleArns,
                ),
              }
            : {},
      };
    }
    case 'gcs': {
      const uri = storeUri('gs', store.bucket, keyPrefixOf(client, store.prefix));
      if ('workloadIdentity' in store.credentials) {
        return {
          uri,
          env: [{ name: 'PLINTH_ARTIFACTS_URI', value: uri }],
          volumes: [],
          volumeMounts: [],
          serviceAccountAnnotations: {
            'iam.gke.io/gcp-service-account': identityOf(
              client,
              store.credentials.workloadIdentity.serviceAccount,
              store.credentials.workloadIdentity.teamServiceAccounts,
            ),
          },
        };
      }
      const { key } = store.credentials.secret;
      const secretName = secretOf(client, store.credentials.secret.name);
      return {
        uri,
        env: [
          { name: 'PLINTH_ARTIFACTS_URI', value: uri },
          { name: 'GOOGLE_APPLICATION_CREDENTIALS', value: `${GCS_CREDENTIALS_PATH}/${key}` },
        ],
        volumes: [{ name: 'artifact-store-credentials', secret: { secretName, items: [{ key, path: key }] } }],
        volumeMounts: [{ name: 'artifact-store-credentials', mountPath: GCS_CREDENTIALS_PATH, readOnly: true }],
        serviceAccountAnnotations: {},
      };
    }
    case 'volume': {
      // Each namespace mounts its own claim of the configured name: a team's runs reach only theirs.
      const uri = `file://${ARTIFACTS_MOUNT_PATH}/${keyPrefixOf(client, '').replace(/\/$/, '')}`;
      return {
        uri,
        env: [{ name: 'PLINTH_ARTIFACTS_URI', value: uri }],
        volumes: [{ name: 'artifacts', persistentVolumeClaim: { claimName: store.claimName } }],
        volumeMounts: [{ name: 'artifacts', mountPath: ARTIFACTS_MOUNT_PATH }],
        serviceAccountAnnotations: {},
      };
    }
  }
}

/** The tracking server's connection: the platform's credential, its default artifact root. */
export function trackingArtifactConnection(store: ArtifactStore): ArtifactConnection {
  return connection(store, { kind: 'tracking' });
}

/** A team's runs' connection: the team's own credential, the team's outputs. */
export function teamArtifactConnection(store: ArtifactStore, team: string): ArtifactConnection {
  return connection(store, { kind: 'team', team });
}

/**
 * How the team's credentials reach its runs: a Secret of the team namespace (which the platform
 * cannot put in a manifest), a workload identity, or none (a volume, reached through its claim).
 */
export function teamCredentialKind(store: ArtifactStore): 'secret' | 'workload-identity' | 'none' {
  if (store.kind === 'volume') return 'none';
  return 'secret' in store.credentials ? 'secret' : 'workload-identity';
}

/** AWS S3 and Google Cloud Storage, reached without an endpoint of the config's, answer on HTTPS. */
const CLOUD_STORE_PORT = 443;

/** Why a cloud store's clients are let out to any address, unless the config names its CIDRs. */
const CLOUD_STORE_UNNAMED = {
  s3: "AWS S3 (and STS, for a workload identity) answers at AWS's public ranges, which change: artifacts.egressCidrs names them, as the README says",
  gcs: "Google Cloud Storage answers at Google's public ranges, which change: artifacts.egressCidrs names them, as the README says",
} as const;

/** An artifact store whose address the platform cannot derive, and the config must give. */
export interface UnnamedStore {
  readonly kind: 'unnamed';
  /** What the config must say, at `artifacts.egressCidrs`. */
  readonly problem: string;
}

/**
 * Where pods reach the artifact store, which the team and platform NetworkPolicies let them out
 * to, on the store's port only:
 * - the CIDRs of `egressCidrs`, when the config gives them;
 * - else an endpoint's own address, when its host is an in-cluster Service or an IP;
 * - else, for an endpoint named by any other host, nothing: its network is the platform
 *   engineer's, who knows its CIDRs, and a guess would open the port to every address, so the
 *   config is refused until it names them;
 * - AWS S3 and GCS without `egressCidrs`: any address on 443. Their addresses are the provider's
 *   public ranges, which change (a stale list would cut runs off their store), so this is the
 *   default, and every NetworkPolicy that carries it says so in a policy waiver.
 * Undefined for a volume, which pods reach through their claim rather than the network.
 */
export function artifactStoreDestination(store: ArtifactStore): NetworkDestination | UnnamedStore | undefined {
  if (store.kind === 'volume') return undefined;
  const endpoint = store.kind === 's3' && store.endpoint ? new URL(store.endpoint) : undefined;
  const port = endpoint ? urlPort(endpoint) : CLOUD_STORE_PORT;
  if (store.egressCidrs) return { kind: 'cidrs', cidrs: store.egressCidrs, port };
  if (!endpoint) return { kind: 'any-address', port, why: CLOUD_STORE_UNNAMED[store.kind] };
  return (
    hostDestination(endpoint.hostname, port) ?? {
      kind: 'unnamed',
      problem:
        `the endpoint's host "${endpoint.hostname}" is neither an in-cluster Service (<service>.<namespace>.svc) ` +
        'nor an IP, and a NetworkPolicy cannot name a host: list the CIDRs its addresses are in, such as ["10.30.0.0/24"]',
    }
  );
}
