import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import { OBJECT_STORE_ROOT_KEYS, STORE_EXPIRY_COMPONENT } from '../model/names.js';
import { logsPrefix, outputsPrefix } from '../model/store-layout.js';
import { platformJobPod } from './platform-job-pod.js';
import { AllowTraffic, artifactStoreEgress, egressTo } from './network-policies.js';

const SCRIPT_PATH = '/etc/plinth/store-expiry';

/**
 * Environment variable that makes the script count ages from another time than now. Only the test
 * of the expiry sets it, on a Job of its own, to age the store by days in a second.
 */
export const EXPIRE_AS_OF_ENV = 'PLINTH_EXPIRE_AS_OF';

/**
 * What an S3 lifecycle rule with an expiration does, for a store without them: every object under
 * a prefix whose last change is older than its days is deleted. Keys are listed to the end before
 * any is deleted, since a posix-backed listing may skip keys that go while it is read.
 */
const EXPIRE_SCRIPT = `"""Deletes every object under a prefix older than that prefix's retention."""
import datetime, os, sys
import boto3
from botocore.config import Config

as_of = os.environ.get("${EXPIRE_AS_OF_ENV}")
now = datetime.datetime.fromisoformat(as_of) if as_of else datetime.datetime.now(datetime.timezone.utc)
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["STORE_ENDPOINT"],
    region_name=os.environ["STORE_REGION"],
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}),
)
bucket = os.environ["BUCKET"]
failed = False
for prefix, days in [
    (os.environ["LOGS_PREFIX"], int(os.environ["LOGS_DAYS"])),
    (os.environ["OUTPUTS_PREFIX"], int(os.environ["OUTPUTS_DAYS"])),
]:
    cutoff = now - datetime.timedelta(days=days)
    expired = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        expired += [o["Key"] for o in page.get("Contents", []) if o["LastModified"] < cutoff]
    errors = []
    for start in range(0, len(expired), 1000):
        batch = [{"Key": key} for key in expired[start : start + 1000]]
        errors += s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}).get("Errors", [])
    print(f"{prefix}: deleted {len(expired) - len(errors)} of {len(expired)} objects last changed before {cutoff.isoformat()} ({days} days)", flush=True)
    for error in errors[:10]:
        print(f"  {error.get('Key')}: {error.get('Code')} {error.get('Message')}", file=sys.stderr)
    failed = failed or bool(errors)
sys.exit(1 if failed else 0)
`;

export interface StoreExpiryProps {
  readonly config: PlatformConfig;
}

/**
 * The retention of the platform's own store (`artifacts.server.retention`): versitygw keeps no
 * lifecycle rules, so a CronJob in the platform namespace deletes, once a day, runs' logs and
 * outputs older than their days, as the AWS bucket's rules do there. It acts with the store's root
 * keys, as the store-users Job does (no user of the store may delete logs: the controller's writes
 * them and deletes none), has no token, and reaches the store's S3 port alone.
 */
export class StoreExpiry extends Construct {
  constructor(scope: Construct, id: string, props: StoreExpiryProps) {
    super(scope, id);
    const { config } = props;
    const store = config.artifacts;
    if (store.kind !== 's3' || !store.server || !store.endpoint) {
      throw new Error('the store expiry is for the platform\'s own store: artifacts must be "s3" with a server');
    }
    const { retention, rootSecret } = store.server;
    const namespace = config.namespace;
    const labels = componentLabels(config.name, STORE_EXPIRY_COMPONENT);
    const metadata = { name: STORE_EXPIRY_COMPONENT, namespace, labels };
    const root = (key: string): k8s.EnvVarSource => ({ secretKeyRef: { name: rootSecret, key } });

    new k8s.KubeConfigMap(this, 'script', { metadata, data: { 'expire.py': EXPIRE_SCRIPT } });

    new k8s.KubeCronJob(this, 'cron-job', {
      metadata,
      spec: {
        // Daily, at an hour of little else; a run missed by more than an hour waits for the next day.
        schedule: '30 3 * * *',
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 3600,
            template: {
              metadata: { labels },
              spec: platformJobPod(
                config,
                {
                  name: 'expire',
                  // The init image carries boto3.
                  image: config.images.init,
                  command: ['python3', `${SCRIPT_PATH}/expire.py`],
                  env: [
                    { name: 'STORE_ENDPOINT', value: store.endpoint },
                    { name: 'STORE_REGION', value: store.region },
                    { name: 'BUCKET', value: store.bucket },
                    { name: 'LOGS_PREFIX', value: logsPrefix(store.prefix) },
                    { name: 'LOGS_DAYS', value: String(retention.logsDays) },
                    { name: 'OUTPUTS_PREFIX', value: outputsPrefix(store.prefix) },
                    { name: 'OUTPUTS_DAYS', value: String(retention.outputsDays) },
                    { name: 'AWS_ACCESS_KEY_ID', valueFrom: root(OBJECT_STORE_ROOT_KEYS.accessKeyId) },
                    { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: root(OBJECT_STORE_ROOT_KEYS.secretAccessKey) },
                  ],
                  resources: {
                    requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('64Mi') },
                    limits: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('256Mi') },
                  },
                },
                [{ name: 'script', mountPath: SCRIPT_PATH, from: { configMap: { name: STORE_EXPIRY_COMPONENT } } }],
              ),
            },
          },
        },
      },
    });

    // Out to the store's S3 port, nowhere else.
    const destination = artifactStoreEgress(config);
    if (destination) {
      new AllowTraffic(this, 'network-policy', {
        metadata: { name: `allow-${STORE_EXPIRY_COMPONENT}`, namespace, labels },
        podSelector: { matchLabels: selectorLabels(STORE_EXPIRY_COMPONENT) },
        egress: [egressTo(destination)],
      });
    }
  }
}
