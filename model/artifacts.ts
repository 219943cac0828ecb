import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ArtifactStore } from './config/artifact-store.js';

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
