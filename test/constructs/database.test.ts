import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, configOf, find, objectsOf, ofKind, podSpecs } from '../support/platform.js';

type CnpgCluster = {
  spec: {
    instances: number;
    imageName: string;
    postgresql?: { synchronous: { method: string; number: number; dataDurability: string } };
    affinity: {
      enablePodAntiAffinity: boolean;
      podAntiAffinityType: string;
      topologyKey: string;
      nodeSelector: unknown;
    };
    backup?: { retentionPolicy: string; barmanObjectStore: { destinationPath: string; s3Credentials: unknown } };
  };
};

describe('CloudNativePG in onprem', () => {
  const objects = objectsOf('onprem');
  const cluster = find(objects, 'Cluster', 'plinth-db', 'plinth') as unknown as CnpgCluster;

  it('runs at least 3 instances with synchronous replication', () => {
    expect(cluster.spec.instances).toBeGreaterThanOrEqual(3);
    expect(cluster.spec.postgresql?.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
  });

  it('requires instances on distinct core nodes', () => {
    expect(cluster.spec.affinity).toMatchObject({
      enablePodAntiAffinity: true,
      podAntiAffinityType: 'required',
      topologyKey: 'kubernetes.io/hostname',
      nodeSelector: { 'plinth.dev/pool': 'core' },
    });
  });

  it('archives to the artifact store with a retention period, on a schedule', () => {
    expect(cluster.spec.backup?.retentionPolicy).toBe('30d');
    expect(cluster.spec.backup?.barmanObjectStore.destinationPath).toBe('s3://plinth-artifacts/plinth/postgres');
    expect(cluster.spec.backup?.barmanObjectStore.s3Credentials).toEqual({
      accessKeyId: { name: 'artifact-store', key: 'AWS_ACCESS_KEY_ID' },
      secretAccessKey: { name: 'artifact-store', key: 'AWS_SECRET_ACCESS_KEY' },
    });
    const scheduled = find(objects, 'ScheduledBackup', 'plinth-db-daily', 'plinth') as unknown as { spec: unknown };
    expect(scheduled.spec).toMatchObject({
      cluster: { name: 'plinth-db' },
      schedule: '0 0 2 * * *',
      method: 'barmanObjectStore',
    });
  });
});

describe('external database in aws', () => {
  const objects = objectsOf('aws');
  const config = configOf('aws');

  it('creates no in-cluster Postgres', () => {
    expect(ofKind(objects, 'Cluster')).toEqual([]);
    expect(ofKind(objects, 'ScheduledBackup')).toEqual([]);
  });

  it('wires the tracking server to the external host and its credentials Secret', () => {
    const tracking = podSpecs(objects).find((p) => p.owner.metadata.name === 'tracking')!.spec.containers[0]!;
    const env = Object.fromEntries((tracking.env ?? []).map((e) => [e.name, e]));
    expect(config.database.kind).toBe('external');
    expect(env['DB_PASSWORD']?.valueFrom).toEqual({ secretKeyRef: { name: 'plinth-db-credentials', key: 'password' } });
    expect(env['MLFLOW_BACKEND_STORE_URI']?.value).toBe(
      'postgresql+psycopg2://$(DB_USER):$(DB_PASSWORD)@plinth-db.placeholder.us-east-1.rds.amazonaws.com:5432/plinth?sslmode=verify-full',
    );
  });
});

describe.each(ENVIRONMENTS)('tracking server in %s', (env) => {
  it('uses the artifact store as its artifact root', () => {
    const config = configOf(env);
    const tracking = podSpecs(objectsOf(env)).find((p) => p.owner.metadata.name === 'tracking')!.spec.containers[0]!;
    const bucket = config.artifacts.kind === 's3' ? config.artifacts.bucket : '';
    expect(tracking.args).toContain(`--default-artifact-root=s3://${bucket}/plinth/mlflow`);
  });
});
