import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ArtifactStore } from './config/artifact-store.js';
import { hostDestination, urlPort, type NetworkDestination } from './network-destination.js';

/** Where the artifact store's volume is mounted in run containers; connections may not mount over it. */
export const ARTIFACTS_MOUNT_PATH = '/artifacts';

/**
 * How a pod reaches the artifact store: env, credentials and mounts, derived from config once and
 * used by the tracking server, the controller's run defaults and the team ServiceAccounts.
 * Credentials are always references (Secret keys or a workload identity), never values.
 */
export interface ArtifactConnection {
  /** Root URI for logs and outputs, e.g. s3://bucket/prefix. */
  readonly uri: string;
  readonly env: V1EnvVar[];
  readonly volumes: V1Volume[];
  readonly volumeMounts: V1VolumeMount[];
  /** Annotations that bind a ServiceAccount to a cloud workload identity. */
  readonly serviceAccountAnnotations: Record<string, string>;
}

const GCS_CREDENTIALS_PATH = '/var/run/secrets/plinth/gcs';

export function artifactConnection(store: ArtifactStore): ArtifactConnection {
  switch (store.kind) {
    case 's3': {
      const env: V1EnvVar[] = [
        { name: 'PLINTH_ARTIFACTS_URI', value: `s3://${store.bucket}/${store.prefix}` },
        { name: 'AWS_REGION', value: store.region },
      ];
      if (store.endpoint) {
        env.push({ name: 'AWS_ENDPOINT_URL_S3', value: store.endpoint });
        env.push({ name: 'MLFLOW_S3_ENDPOINT_URL', value: store.endpoint });
      }
      if ('secret' in store.credentials) {
        const { name, accessKeyIdKey, secretAccessKeyKey } = store.credentials.secret;
        env.push({ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name, key: accessKeyIdKey } } });
        env.push({ name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name, key: secretAccessKeyKey } } });
      }
      return {
        uri: `s3://${store.bucket}/${store.prefix}`,
        env,
        volumes: [],
        volumeMounts: [],
        serviceAccountAnnotations:
          'workloadIdentity' in store.credentials
            ? { 'eks.amazonaws.com/role-arn': store.credentials.workloadIdentity.roleArn }
            : {},
      };
    }
    case 'gcs': {
      const uri = `gs://${store.bucket}/${store.prefix}`;
      if ('workloadIdentity' in store.credentials) {
        return {
          uri,
          env: [{ name: 'PLINTH_ARTIFACTS_URI', value: uri }],
          volumes: [],
          volumeMounts: [],
          serviceAccountAnnotations: {
            'iam.gke.io/gcp-service-account': store.credentials.workloadIdentity.serviceAccount,
          },
        };
      }
      const { name, key } = store.credentials.secret;
      return {
        uri,
        env: [
          { name: 'PLINTH_ARTIFACTS_URI', value: uri },
          { name: 'GOOGLE_APPLICATION_CREDENTIALS', value: `${GCS_CREDENTIALS_PATH}/${key}` },
        ],
        volumes: [{ name: 'artifact-store-credentials', secret: { secretName: name, items: [{ key, path: key }] } }],
        volumeMounts: [{ name: 'artifact-store-credentials', mountPath: GCS_CREDENTIALS_PATH, readOnly: true }],
        serviceAccountAnnotations: {},
      };
    }
    case 'volume':
      return {
        uri: `file://${ARTIFACTS_MOUNT_PATH}`,
        env: [{ name: 'PLINTH_ARTIFACTS_URI', value: `file://${ARTIFACTS_MOUNT_PATH}` }],
        volumes: [{ name: 'artifacts', persistentVolumeClaim: { claimName: store.claimName } }],
        volumeMounts: [{ name: 'artifacts', mountPath: ARTIFACTS_MOUNT_PATH }],
        serviceAccountAnnotations: {},
      };
  }
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
