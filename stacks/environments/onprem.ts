import type { PlatformConfigInput } from '../../model/config/schema.js';
import { DATASETS, GIT } from './connections.js';
import { EXAMPLE_REGISTRY, platformImages } from './images.js';

/**
 * Any conformant cluster: HA Postgres in-cluster with CloudNativePG, artifacts in an
 * S3-compatible store (MinIO, Ceph RGW, ...), certificates from Let's Encrypt.
 */
export const onprem: PlatformConfigInput = {
  name: 'onprem',
  images: platformImages(EXAMPLE_REGISTRY),
  nodePools: {
    core: { role: 'core', taints: [{ key: 'plinth.dev/dedicated', value: 'core', effect: 'NoSchedule' }] },
    cpu: { role: 'cpu' },
    gpu: { role: 'gpu', accelerator: 'nvidia-a100', gpusPerNode: 8 },
  },
  database: {
    kind: 'cloudnative-pg',
    instances: 3,
    synchronousReplicas: 1,
    storage: { size: '100Gi' },
    backup: { enabled: true, schedule: '0 0 2 * * *', retention: '30d' },
  },
  artifacts: {
    kind: 's3',
    bucket: 'plinth-artifacts',
    region: 'us-east-1',
    endpoint: 'https://s3.storage.internal:9000',
    // The storage network the endpoint's name resolves into: runs, tracking and backups reach only it.
    egressCidrs: ['10.30.0.0/24'],
    credentials: { secret: { name: 'artifact-store' } },
  },
  connections: [
    DATASETS,
    GIT,
    {
      name: 'warehouse',
      description:
        "The analytics warehouse's read replica (PostgreSQL), with the team's warehouse Secret (PGUSER, PGPASSWORD)",
      env: {
        PGHOST: 'warehouse-ro.data.internal',
        PGPORT: '5432',
        PGDATABASE: 'analytics',
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: '/etc/plinth/warehouse/ca.crt',
      },
      secret: { name: 'warehouse' },
      // The CA that signed the warehouse's certificate, which verify-full checks.
      configMap: { name: 'warehouse-ca', mountPath: '/etc/plinth/warehouse' },
      // Only to the data network, on PostgreSQL's port.
      egress: { ports: [5432], to: ['10.20.0.0/16'] },
    },
  ],
  ingress: { domain: 'ml.example.com', tls: { kind: 'acme', email: 'platform@example.com' } },
  teams: [
    {
      name: 'vision',
      members: [
        { kind: 'Group', name: 'vision-admins', role: 'admin' },
        { kind: 'Group', name: 'vision', role: 'editor' },
      ],
      quota: { cpu: '128', memory: '512Gi', gpu: 16, maxConcurrentRuns: 50 },
      // Not the warehouse: its runs do not reach the data network.
      connections: ['datasets', 'git'],
    },
    {
      name: 'nlp',
      members: [{ kind: 'Group', name: 'nlp', role: 'editor' }],
      quota: { cpu: '64', memory: '256Gi', gpu: 8, maxConcurrentRuns: 25 },
    },
  ],
  monitoring: { enabled: true },
};
