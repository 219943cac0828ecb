import { describe, expect, it } from 'vitest';
import { versitygwUsersPlan } from '../../constructs/store-users.js';
import { corePlacement } from '../../model/pools.js';
import { arnOfBucket, logArchiveStorePolicy, platformStorePolicy, teamStorePolicy } from '../../model/store-access.js';
import { configOf, find, inputOf, objectsOf, ofKind, renderInput, type K8sObject } from '../support/platform.js';

type Container = {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
};
type Pod = {
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  securityContext?: Record<string, unknown>;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
};
const podOf = (o: K8sObject) => (o['spec'] as { template: { spec: Pod } }).template.spec;

describe("the platform's own store in local", () => {
  const config = configOf('local');
  const objects = objectsOf('local');
  const deployment = find(objects, 'Deployment', 'object-store', 'plinth');
  const pod = podOf(deployment);
  const container = pod.containers[0]!;

  it('runs one replica, replaced rather than rolled, on the core pool', () => {
    expect(deployment['spec']).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const placement = corePlacement(config);
    expect(pod.nodeSelector).toEqual(placement.nodeSelector);
    expect(pod.tolerations).toEqual(placement.tolerations);
    expect(ofKind(objects, 'PodDisruptionBudget').map((p) => p.metadata.name)).not.toContain('object-store');
  });

  it('serves its claim with versitygw: sidecar metadata, users on the claim, the config region, health checked', () => {
    expect(container.image).toBe(config.images.objectStore);
    expect(container.args).toEqual([
      '--port=:9000',
      '--admin-port=:9001',
      '--region=us-east-1',
      '--iam-dir=/data/users',
      '--health=/health',
      '--quiet',
      'posix',
      '--sidecar=/data/metadata',
      '/data/objects',
    ]);
    expect(pod.initContainers?.map((c) => [c.image, c.command])).toEqual([
      [config.images.init, ['mkdir', '-p', '/data/objects', '/data/metadata', '/data/users']],
    ]);
    for (const probe of [container.readinessProbe, container.livenessProbe])
      expect(probe?.httpGet).toEqual({ path: '/health', port: 's3' });
    const claim = find(objects, 'PersistentVolumeClaim', 'object-store', 'plinth')['spec'];
    expect(claim).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    expect(pod.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'object-store' } });
    // A claim of many files is given to the pod's group only when its root is not already.
    expect(pod.securityContext?.['fsGroupChangePolicy']).toBe('OnRootMismatch');
  });

  it('reads its root keys from the Secret the deployer writes, never from the manifest', () => {
    expect(container.env).toEqual([
      {
        name: 'ROOT_ACCESS_KEY_ID',
        valueFrom: { secretKeyRef: { name: 'object-store-admin', key: 'ROOT_ACCESS_KEY_ID' } },
      },
      {
        name: 'ROOT_SECRET_ACCESS_KEY',
        valueFrom: { secretKeyRef: { name: 'object-store-admin', key: 'ROOT_SECRET_ACCESS_KEY' } },
      },
    ]);
  });

  it('is the Service the endpoint names, S3 and admin each on the same port of the pod', () => {
    expect(config.artifacts.kind === 's3' && config.artifacts.endpoint).toBe('http://object-store.plinth.svc:9000');
    expect(find(objects, 'Service', 'object-store', 'plinth')['spec']).toMatchObject({
      ports: [
        { name: 's3', port: 9000, targetPort: 's3' },
        { name: 'admin', port: 9001, targetPort: 'admin' },
      ],
    });
    expect(container.ports).toMatchObject([
      { name: 's3', containerPort: 9000 },
      { name: 'admin', containerPort: 9001 },
    ]);
  });

  it('pulls its images only when the node lacks them, as does the Job that makes its users', () => {
    const job = podOf(find(objects, 'Job', 'artifact-store-users', 'plinth'));
    for (const c of [...(pod.initContainers ?? []), ...pod.containers, ...job.containers])
      expect(c.imagePullPolicy, c.name).toBe('IfNotPresent');
  });

  it('comes before the database and tracking, which write there', () => {
    const files = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(files.indexOf('Deployment/object-store')).toBeLessThan(files.indexOf('Cluster/plinth-db'));
    expect(files.indexOf('Job/artifact-store-users')).toBeLessThan(files.indexOf('Deployment/tracking'));
  });

  it('takes a storage class and a size, where the config gives them', () => {
    const input = inputOf('local');
    if (input.artifacts.kind !== 's3') throw new Error('local stores artifacts in S3');
    input.artifacts.server = { storage: { size: '200Gi', storageClass: 'fast-ssd' }, rootSecret: 'store-root' };
    const objects = renderInput(input);
    expect(find(objects, 'PersistentVolumeClaim', 'object-store', 'plinth')['spec']).toMatchObject({
      storageClassName: 'fast-ssd',
      resources: { requests: { storage: '200Gi' } },
    });
    const env = podOf(find(objects, 'Deployment', 'object-store', 'plinth')).containers[0]!.env ?? [];
    expect(new Set(env.map((e) => e.valueFrom?.secretKeyRef?.name))).toEqual(new Set(['store-root']));
    const job = podOf(find(objects, 'Job', 'artifact-store-users', 'plinth')).containers[0]!;
    expect(job.env?.find((e) => e.name === 'ADMIN_SECRET_ACCESS_KEY')?.valueFrom?.secretKeyRef?.name).toBe(
      'store-root',
    );
  });
});

describe("the users of the platform's own store", () => {
  const config = configOf('local');
  const objects = objectsOf('local');
  const job = podOf(find(objects, 'Job', 'artifact-store-users', 'plinth')).containers[0]!;
  const plan = find(objects, 'ConfigMap', 'artifact-store-users', 'plinth')['data'] as Record<string, string>;

  it("are made by the init image's admin clients, against the store's admin port", () => {
    expect(job.image).toBe(config.images.init);
    expect(job.command).toEqual(['python3', '/etc/plinth/store-users/create-users.py']);
    expect(job.env?.find((e) => e.name === 'ADMIN_ENDPOINT_URL')?.value).toBe('http://object-store.plinth.svc:9001');
    expect(Object.keys(plan).sort()).toEqual(['create-users.py', 'plan.json']);
  });

  it("are each named in one bucket policy as Principal of its own policy's statements, and nothing else", () => {
    const bucketArn = arnOfBucket('plinth-local');
    const planned = JSON.parse(plan['plan.json']!) as ReturnType<typeof versitygwUsersPlan>;
    expect(planned).toEqual(JSON.parse(JSON.stringify(versitygwUsersPlan(config))));
    expect(planned.users.map((u) => [u.accessKeyId, u.secretKey])).toEqual([
      ['plinth-local', 'platform'],
      ['plinth-local--logs', 'log-archive'],
      ['plinth-local-vision', 'team-vision'],
      ['plinth-local-nlp', 'team-nlp'],
    ]);
    const of = (user: string) =>
      planned.bucketPolicy.Statement.filter((s) => JSON.stringify(s.Principal) === JSON.stringify({ AWS: [user] }));
    const withoutIds = (statements: readonly object[]) =>
      statements.map((s) => ({ ...s, Sid: undefined, Principal: undefined }));
    expect(withoutIds(of('plinth-local-vision'))).toEqual(
      withoutIds(teamStorePolicy(bucketArn, 'plinth', 'vision').Statement),
    );
    expect(withoutIds(of('plinth-local'))).toEqual(withoutIds(platformStorePolicy(bucketArn, 'plinth').Statement));
    expect(withoutIds(of('plinth-local--logs'))).toEqual(
      withoutIds(logArchiveStorePolicy(bucketArn, 'plinth').Statement),
    );
    const users = ['plinth-local', 'plinth-local--logs', 'plinth-local-vision', 'plinth-local-nlp'];
    expect(users.reduce((n, user) => n + of(user).length, 0)).toBe(planned.bucketPolicy.Statement.length);
    const sids = planned.bucketPolicy.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
  });
});

describe("the retention of the platform's own store", () => {
  const cronJob = (objects: K8sObject[]) => {
    const job = find(objects, 'CronJob', 'object-store-expiry', 'plinth');
    const spec = job['spec'] as {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: { spec: { template: { spec: Pod } } };
    };
    return { spec, container: spec.jobTemplate.spec.template.spec.containers[0]! };
  };
  const envOf = (container: Container) => Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));

  it('expires logs after 30 days and outputs after 365, once a day, as the AWS bucket does', () => {
    const { spec, container } = cronJob(objectsOf('local'));
    expect(spec).toMatchObject({ schedule: '30 3 * * *', concurrencyPolicy: 'Forbid' });
    expect(envOf(container)).toMatchObject({
      LOGS_PREFIX: 'plinth/logs/',
      LOGS_DAYS: '30',
      OUTPUTS_PREFIX: 'plinth/outputs/',
      OUTPUTS_DAYS: '365',
    });
    // With the store's root keys, from its root Secret: no user of the store deletes logs.
    expect(new Set(container.env?.flatMap((e) => e.valueFrom?.secretKeyRef?.name ?? []))).toEqual(
      new Set(['object-store-admin']),
    );
  });

  it('takes the days the config gives, and refuses a retention under a day, naming the field', () => {
    const input = inputOf('local');
    if (input.artifacts.kind !== 's3') throw new Error('local stores artifacts in S3');
    input.artifacts.server = { retention: { logsDays: 7 } };
    expect(envOf(cronJob(renderInput(input)).container)).toMatchObject({ LOGS_DAYS: '7', OUTPUTS_DAYS: '365' });
    input.artifacts.server = { retention: { logsDays: 0 } };
    expect(() => renderInput(input)).toThrow(/artifacts\.server\.retention\.logsDays: must be at least 1 day/);
  });
});

describe('a store outside the platform (onprem)', () => {
  it('deploys no store, and leaves the users to pulumi up', () => {
    const objects = objectsOf('onprem');
    for (const kind of ['Deployment', 'PersistentVolumeClaim', 'Service', 'Job', 'ConfigMap', 'CronJob'])
      expect(
        ofKind(objects, kind).map((o) => o.metadata.name),
        kind,
      ).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(object-store|artifact-store-users|object-store-expiry)$/)]),
      );
    // Its store keeps its own lifecycle rules (MinIO's), which the platform does not manage.
    expect(ofKind(objects, 'CronJob')).toEqual([]);
  });
});
