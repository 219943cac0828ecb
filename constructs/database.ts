import { Construct } from 'constructs';
import type { PlatformConfig } from '../model/config/schema.js';
import {
  Cluster,
  ClusterSpecBackupBarmanObjectStoreDataCompression as DataCompression,
  ClusterSpecBackupBarmanObjectStoreWalCompression as WalCompression,
  ClusterSpecPostgresqlSynchronousDataDurability as DataDurability,
  ClusterSpecPostgresqlSynchronousMethod as SynchronousMethod,
  ClusterSpecPrimaryUpdateStrategy,
  ClusterSpecResourcesLimits,
  ClusterSpecResourcesRequests,
  type ClusterSpecBackupBarmanObjectStore,
} from './imports/cnpg-cluster-postgresql.cnpg.io.js';
import {
  ScheduledBackup,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
} from './imports/cnpg-scheduledbackup-postgresql.cnpg.io.js';
import { componentLabels } from '../model/labels.js';
import { corePlacement } from '../model/pools.js';

export const DATABASE_COMPONENT = 'postgres';
const CLUSTER_NAME = 'plinth-db';
const DATABASE_NAME = 'plinth';

/** How platform services reach Postgres, whichever kind it is. */
export interface DatabaseConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** A Secret with `username` and `password` keys. */
  readonly credentialsSecret: string;
  readonly sslMode: string;
}

export function databaseConnection(config: PlatformConfig): DatabaseConnection {
  const db = config.database;
  if (db.kind === 'external') {
    return {
      host: db.host,
      port: db.port,
      database: db.database,
      credentialsSecret: db.credentialsSecret,
      sslMode: db.sslMode,
    };
  }
  // CloudNativePG writes the application user's credentials to <cluster>-app and serves the primary at <cluster>-rw.
  return {
    host: `${CLUSTER_NAME}-rw.${config.namespace}.svc`,
    port: 5432,
    database: DATABASE_NAME,
    credentialsSecret: `${CLUSTER_NAME}-app`,
    sslMode: 'require',
  };
}

export interface DatabaseProps {
  readonly config: PlatformConfig;
}

/**
 * HA Postgres with CloudNativePG: instances spread across core nodes, synchronous replication,
 * and WAL archiving plus scheduled base backups to the artifact store. An external database
 * needs no objects here: services read its Secret through databaseConnection().
 */
export class Database extends Construct {
  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { config } = props;
    const db = config.database;
    if (db.kind !== 'cloudnative-pg') return;

    const labels = componentLabels(config.name, DATABASE_COMPONENT);
    const placement = corePlacement(config);
    const backup = db.backup.enabled ? barmanObjectStore(config) : undefined;

    new Cluster(this, 'cluster', {
      metadata: { name: CLUSTER_NAME, namespace: config.namespace, labels },
      spec: {
        instances: db.instances,
        imageName: config.images.postgres,
        primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
        postgresUid: config.security.runAsUser,
        postgresGid: config.security.runAsGroup,
        bootstrap: { initdb: { database: DATABASE_NAME, owner: DATABASE_NAME } },
        storage: { size: db.storage.size, storageClass: db.storage.storageClass },
        resources: {
          requests: {
            cpu: ClusterSpecResourcesRequests.fromString(db.resources.requests.cpu),
            memory: ClusterSpecResourcesRequests.fromString(db.resources.requests.memory),
          },
          limits: {
            cpu: ClusterSpecResourcesLimits.fromString(db.resources.limits.cpu),
            memory: ClusterSpecResourcesLimits.fromString(db.resources.limits.memory),
          },
        },
        // Quorum commit: a write is acknowledged once `number` standbys have it, so losing the primary loses nothing.
        postgresql:
          db.synchronousReplicas > 0
            ? {
                synchronous: {
                  method: SynchronousMethod.ANY,
                  number: db.synchronousReplicas,
                  dataDurability: DataDurability.REQUIRED,
                },
              }
            : undefined,
        affinity: {
          enablePodAntiAffinity: true,
          podAntiAffinityType: 'required',
          topologyKey: 'kubernetes.io/hostname',
          nodeSelector: placement.nodeSelector,
          tolerations: placement.tolerations,
        },
        enablePdb: true,
        monitoring: config.monitoring.enabled ? { enablePodMonitor: true } : undefined,
        backup: backup ? { barmanObjectStore: backup, retentionPolicy: db.backup.retention } : undefined,
      },
    });

    if (backup) {
      new ScheduledBackup(this, 'scheduled-backup', {
        metadata: { name: `${CLUSTER_NAME}-daily`, namespace: config.namespace, labels },
        spec: {
          cluster: { name: CLUSTER_NAME },
          schedule: db.backup.schedule,
          method: ScheduledBackupSpecMethod.BARMAN_OBJECT_STORE,
          backupOwnerReference: ScheduledBackupSpecBackupOwnerReference.SELF,
          immediate: true,
        },
      });
    }
  }
}

function barmanObjectStore(config: PlatformConfig): ClusterSpecBackupBarmanObjectStore {
  const store = config.artifacts;
  if (store.kind === 's3') {
    return {
      destinationPath: `s3://${store.bucket}/${store.prefix}/postgres`,
      endpointUrl: store.endpoint,
      s3Credentials:
        'secret' in store.credentials
          ? {
              accessKeyId: { name: store.credentials.secret.name, key: store.credentials.secret.accessKeyIdKey },
              secretAccessKey: {
                name: store.credentials.secret.name,
                key: store.credentials.secret.secretAccessKeyKey,
              },
            }
          : { inheritFromIamRole: true },
      wal: { compression: WalCompression.GZIP },
      data: { compression: DataCompression.GZIP },
    };
  }
  if (store.kind === 'gcs') {
    return {
      destinationPath: `gs://${store.bucket}/${store.prefix}/postgres`,
      googleCredentials:
        'secret' in store.credentials
          ? { applicationCredentials: { name: store.credentials.secret.name, key: store.credentials.secret.key } }
          : { gkeEnvironment: true },
    };
  }
  throw new Error('unreachable: config validation rejects backups to a volume store');
}
