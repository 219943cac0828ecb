import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchV1Api, CoreV1Api, type V1CronJob } from '@kubernetes/client-node';
import { EXPIRE_AS_OF_ENV } from '../../constructs/store-expiry.js';
import {
  OBJECT_STORE_COMPONENT,
  OBJECT_STORE_PORTS,
  OBJECT_STORE_ROOT_KEYS,
  STORE_EXPIRY_COMPONENT,
} from '../../model/names.js';
import { logsPrefix, outputsPrefix, trackingPrefix } from '../../model/store-layout.js';
import { cluster, eventually, kubeConfigAs, kubeconfigFileOf } from '../support/cluster-clients.js';
import { configOf } from '../support/platform.js';
import { portForward } from '../support/port-forward.js';

/**
 * The retention of the platform's own store (constructs/store-expiry.ts): the CronJob's own Job,
 * run with its clock moved on by days, deletes from the real store what a lifecycle rule would, and
 * nothing else. The objects are the store's own; nothing about the store is simulated.
 */
const NS = 'plinth';
const DAY_MS = 24 * 60 * 60 * 1000;
const store = configOf('local').artifacts;
if (store.kind !== 's3' || !store.server) throw new Error('local keeps its artifacts in its own S3 store');
const { bucket, prefix, region } = store;
const run = randomUUID();
const KEYS = {
  log: `${logsPrefix(prefix)}vision/${run}/train-abc/main/0000-000000.log`,
  output: `${outputsPrefix(prefix)}vision/${run}/model.pt`,
  tracking: `${trackingPrefix(prefix)}expiry-test/kept.txt`,
};
const batch = () => kubeConfigAs('admin').makeApiClient(BatchV1Api);
const core = () => kubeConfigAs('admin').makeApiClient(CoreV1Api);
let s3: S3Client;
const made: string[] = [];

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof NoSuchKey) return false;
    throw error;
  }
}

/** Runs the CronJob's Job now, as if it were `days` from now, and returns what it printed. */
async function expireAsOf(days: number): Promise<string> {
  const cronJob: V1CronJob = await batch().readNamespacedCronJob({ name: STORE_EXPIRY_COMPONENT, namespace: NS });
  const template = structuredClone(cronJob.spec?.jobTemplate);
  const container = template?.spec?.template.spec?.containers[0];
  if (!template?.spec || !container) throw new Error('the expiry CronJob has no Job template');
  container.env = [
    ...(container.env ?? []),
    { name: EXPIRE_AS_OF_ENV, value: new Date(Date.now() + days * DAY_MS).toISOString() },
  ];
  const name = `${STORE_EXPIRY_COMPONENT}-test-${days}`;
  made.push(name);
  await batch().createNamespacedJob({
    namespace: NS,
    body: { metadata: { name, namespace: NS, labels: template.metadata?.labels }, spec: template.spec },
  });
  await eventually(
    `Job ${name} to succeed`,
    async () => {
      const job = await batch().readNamespacedJob({ name, namespace: NS });
      if (job.status?.failed) throw new Error(`Job ${name} failed`);
      return job.status?.succeeded ? true : undefined;
    },
    120_000,
  );
  const [pod] = (await core().listNamespacedPod({ namespace: NS, labelSelector: `job-name=${name}` })).items;
  return core().readNamespacedPodLog({ name: pod?.metadata?.name ?? '', namespace: NS });
}

describe("the platform's own store keeps logs and outputs for their retention", { timeout: 300_000 }, () => {
  beforeAll(async () => {
    if (cluster().realNodes.length === 0)
      throw new Error('the store runs on the real core nodes, and the cluster has none');
    const endpoint = await portForward(
      kubeconfigFileOf('admin'),
      cluster().binDirs,
      OBJECT_STORE_COMPONENT,
      OBJECT_STORE_PORTS.s3,
    );
    const root = await core().readNamespacedSecret({ name: store.server?.rootSecret ?? '', namespace: NS });
    const key = (k: string) => Buffer.from(root.data?.[k] ?? '', 'base64').toString();
    s3 = new S3Client({
      region,
      endpoint,
      forcePathStyle: true,
      maxAttempts: 10,
      credentials: {
        accessKeyId: key(OBJECT_STORE_ROOT_KEYS.accessKeyId),
        secretAccessKey: key(OBJECT_STORE_ROOT_KEYS.secretAccessKey),
      },
    });
    for (const k of Object.values(KEYS)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: 'x\n' }));
  });
  afterAll(async () => {
    for (const name of made) {
      await batch()
        .deleteNamespacedJob({ name, namespace: NS, propagationPolicy: 'Background' })
        .catch(() => undefined);
    }
  });

  it('deletes logs past 30 days and keeps younger outputs', async () => {
    const printed = await expireAsOf(31);
    expect(printed).toMatch(/plinth\/logs\/: deleted [1-9]\d* of [1-9]\d* objects/);
    expect(await exists(KEYS.log)).toBe(false);
    expect(await exists(KEYS.output)).toBe(true);
    expect(await exists(KEYS.tracking)).toBe(true);
  });

  it('deletes outputs past 365 days, and never what is outside logs and outputs', async () => {
    const printed = await expireAsOf(366);
    expect(printed).toMatch(/plinth\/outputs\/: deleted [1-9]\d* of [1-9]\d* objects/);
    expect(await exists(KEYS.output)).toBe(false);
    expect(await exists(KEYS.tracking)).toBe(true);
  });
});
