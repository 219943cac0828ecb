import { Construct } from 'constructs';
import type { k8s } from 'cdk8s-plus-28';
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
import { ImageCatalog } from './imports/cnpg-imagecatalog-postgresql.cnpg.io.js';
import {
  ScheduledBackup,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
} from './imports/cnpg-scheduledbackup-postgresql.cnpg.io.js';
import { POSTGRES_MAJOR } from '../images/definitions/postgres.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import { PLATFORM_IMAGE_PULL_POLICY } from '../model/images.js';
import { hostDestination } from '../model/network-destination.js';
import { TRACKING_COMPONENT } from '../model/names.js';
import { databaseBackupsPrefix, storeUri } from '../model/store-layout.js';
import { corePlacement } from '../model/pools.js';
import {
  AllowTraffic,
  API_SERVER_EGRESS,
  artifactStoreEgress,
  egressTo,
  namespacePeer,
  podsPeer,
  tcp,
} from './network-policies.js';

export const DATABASE_COMPONENT = 'postgres';
const CLUSTER_NAME = 'plinth-db';
const DATABASE_NAME = 'plinth';

/**
 * CloudNativePG's ports on every instance: Postgres itself, the instance manager's status endpoint
 * (which the operator and the other instances call), and the metrics its PodMonitor scrapes.
 */
export const CNPG_PORTS = { postgres: 5432, status: 8000, metrics: 9187 } as const;

/**
 * The label CloudNativePG puts on every pod of a cluster, instances and bootstrap or join Jobs alike,
 * with the cluster's name: the operator makes these pods, so its label is the one they are sure to carry.
 */
export const CNPG_CLUSTER_LABEL = 'cnpg.io/cluster';
export const DATABASE_POD_LABELS = { [CNPG_CLUSTER_LABEL]: CLUSTER_NAME };

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
    port: CNPG_PORTS.postgres,
    database: DATABASE_NAME,
    credentialsSecret: `${CLUSTER_NAME}-app`,
    sslMode: 'require',
  };
}

/**
 * How the tracking server is let out to Postgres: to the instances' pods in the platform namespace;
 * to an external database's address when its host is an IP or an in-cluster Service; else to any
 * address on its port, since a NetworkPolicy cannot name a host (RDS is reached by name). Only the
 * tracking server's pods get that rule.
 */
export function databaseEgress(config: PlatformConfig): k8s.NetworkPolicyEgressRule {
  const db = config.database;
  if (db.kind === 'cloudnative-pg') return { to: [podsPeer(DATABASE_POD_LABELS)], ports: [tcp(CNPG_PORTS.postgres)] };
  return egressTo(
    hostDestination(db.host, db.port) ?? {
      kind: 'any-address',
      port: db.port,
      why: `the database host "${db.host}" is neither an in-cluster Service nor an IP`,
    },
  );
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

    // The operator reads the major version from an image's tag unless a catalog states it, and the
    // platform's images are tagged by the hash of their inputs.
    new ImageCatalog(this, 'image-catalog', {
      metadata: { name: CLUSTER_NAME, namespace: config.namespace, labels },
      spec: { images: [{ major: POSTGRES_MAJOR, image: config.images.postgres }] },
    });

    new Cluster(this, 'cluster', {
      metadata: { name: CLUSTER_NAME, namespace: config.namespace, labels },
      spec: {
        instances: db.instances,
        imageCatalogRef: {
          apiGroup: 'postgresql.cnpg.io',
          kind: 'ImageCatalog',
          name: CLUSTER_NAME,
          major: POSTGRES_MAJOR,
        },
        imagePullPolicy: PLATFORM_IMAGE_PULL_POLICY,
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

    const instances = podsPeer(DATABASE_POD_LABELS);
    const peerPorts = [tcp(CNPG_PORTS.postgres), tcp(CNPG_PORTS.status)];
    const store = backup ? artifactStoreEgress(config) : undefined;
    new AllowTraffic(this, 'network-policy', {
      metadata: { name: 'allow-postgres', namespace: config.namespace, labels },
      podSelector: { matchLabels: DATABASE_POD_LABELS },
      ingress: [
        // The tracking server is Postgres's one client.
        { from: [podsPeer(selectorLabels(TRACKING_COMPONENT))], ports: [tcp(CNPG_PORTS.postgres)] },
        // The operator checks each instance's status and runs its switchovers.
        { from: [namespacePeer(db.operatorNamespace)], ports: peerPorts },
        // Standbys stream the primary's WAL and call each other's instance manager.
        { from: [instances], ports: peerPorts },
        // Prometheus scrapes the metrics the PodMonitor selects.
        ...(config.monitoring.enabled
          ? [{ from: [namespacePeer(config.monitoring.prometheusNamespace)], ports: [tcp(CNPG_PORTS.metrics)] }]
          : []),
      ],
      egress: [
        { to: [instances], ports: peerPorts },
        // The instance manager watches its Cluster and reports its status through the API.
        API_SERVER_EGRESS,
        // WAL archiving and base backups go to the artifact store.
        ...(store ? [egressTo(store)] : []),
      ],
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

/**
 * Base backups and WAL go under their own prefix with the platform's credential, which no team
 * holds: a team's credential reaches only its own prefixes (model/store-access.ts).
 */
function barmanObjectStore(config: PlatformConfig): ClusterSpecBackupBarmanObjectStore {
  const store = config.artifacts;
  if (store.kind === 's3') {
    return {
      destinationPath: storeUri('s3', store.bucket, databaseBackupsPrefix(store.prefix)),
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
      destinationPath: storeUri('gs', store.bucket, databaseBackupsPrefix(store.prefix)),
      googleCredentials:
        'secret' in store.credentials
          ? { applicationCredentials: { name: store.credentials.secret.name, key: store.credentials.secret.key } }
          : { gkeEnvironment: true },
    };
  }
  throw new Error('unreachable: config validation rejects backups to a volume store');
}
