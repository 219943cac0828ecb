import type { V1EnvVar } from '@kubernetes/client-node';
import type { PlatformConfig } from './config/schema.js';
import { LOG_ARCHIVE_SECRET } from './names.js';

/**
 * Where the controller archives every run's logs, and with what credential: the store's bucket,
 * under `<prefix>/logs/` (model/store-layout.ts), with a credential of its own that writes only
 * there (model/store-access.ts logArchiveStorePolicy). Derived from the config once; the controller
 * reads the location from its defaults and the credential from its own env, never from a Secret
 * through the API.
 */
export interface LogArchiveLocation {
  readonly bucket: string;
  readonly region: string;
  /** An S3-compatible store's URL; none for AWS S3. */
  readonly endpoint: string | null;
  /** `artifacts.prefix`, under which the store layout puts `logs/`. */
  readonly prefix: string;
}

export interface LogArchiveWiring {
  readonly location: LogArchiveLocation;
  /** The controller container's env that carries the credential (Secret references only). */
  readonly env: V1EnvVar[];
  /** Annotations that bind the controller's ServiceAccount to a workload identity. */
  readonly serviceAccountAnnotations: Record<string, string>;
}

/**
 * The log archive of an environment, or undefined where there is none yet: logs are archived to
 * S3 and S3-compatible stores; a GCS or volume store keeps no logs beyond the pods' (README, Logs).
 */
export function logArchiveOf(config: PlatformConfig): LogArchiveWiring | undefined {
  const store = config.artifacts;
  if (store.kind !== 's3') return undefined;
  const location = {
    bucket: store.bucket,
    region: store.region,
    endpoint: store.endpoint ?? null,
    prefix: store.prefix,
  };
  if ('workloadIdentity' in store.credentials) {
    return {
      location,
      env: [],
      serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': store.credentials.workloadIdentity.logArchiveRoleArn },
    };
  }
  const { accessKeyIdKey, secretAccessKeyKey } = store.credentials.secret;
  const key = (name: string, k: string): V1EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: LOG_ARCHIVE_SECRET, key: k } },
  });
  return {
    location,
    env: [key('AWS_ACCESS_KEY_ID', accessKeyIdKey), key('AWS_SECRET_ACCESS_KEY', secretAccessKeyKey)],
    serviceAccountAnnotations: {},
  };
}
