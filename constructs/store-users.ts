import { createHash } from 'node:crypto';
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import {
  OBJECT_STORE_COMPONENT,
  OBJECT_STORE_HEALTH_PATH,
  OBJECT_STORE_PORTS,
  OBJECT_STORE_ROOT_KEYS,
  objectStoreAdminEndpoint,
  LOG_ARCHIVE_SECRET,
  STORE_USERS_COMPONENT,
  teamArtifactStoreSecretName,
  teamNamespaceName,
} from '../model/names.js';
import {
  arnOfBucket,
  bucketPolicyOf,
  logArchiveSecretKey,
  logArchiveStorePolicy,
  platformSecretKey,
  platformStorePolicy,
  teamSecretKey,
  teamStorePolicy,
  type PolicyDocument,
} from '../model/store-access.js';
import { platformJobPod } from './platform-job-pod.js';
import { AllowTraffic, artifactStoreEgress, egressTo, podsPeer, tcp } from './network-policies.js';

/**
 * The MinIO client the Job runs for a store outside the platform. Pinned here, as the operators'
 * charts are, since only `pulumi up` deploys it: an upgrade is a reviewed change. Releases since
 * late 2024 attach an attached policy again without failing, which the script relies on to be run
 * again.
 */
export const MINIO_CLIENT_IMAGE = 'quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z';

/** Where the Job finds its keys (the Secret of STORE_USERS_COMPONENT) and its plan (the ConfigMap). */
const KEYS_PATH = '/var/run/secrets/plinth/store-users';
const PLAN_PATH = '/etc/plinth/store-users';

/** The keys of the Job's Secret, which the deployer (`pulumi up`, the local harness) writes. */
export const STORE_USERS_SECRET_KEYS = {
  /** MinIO: the admin's keys. The platform's own store takes its root keys from its root Secret instead. */
  adminAccessKeyId: 'admin-access-key-id',
  adminSecretAccessKey: 'admin-secret-access-key',
  team: (team: string) => `team-${team}`,
  /** The platform's own store: the platform's user's secret key (tracking, backups). */
  platform: 'platform',
  /** The controller's user's secret key, with which it archives runs' logs. */
  logArchive: 'log-archive',
} as const;

/** A team's user in the store, which is also its policy's name: one per environment, so that two platforms can share a store. */
export function storeUserName(config: PlatformConfig, team: string): string {
  return `plinth-${config.name}-${team}`;
}

/** The platform's user in its own store (tracking, backups): no team's name is this, as each has a suffix. */
export function platformStoreUserName(config: PlatformConfig): string {
  return `plinth-${config.name}`;
}

/**
 * The controller's user, which archives runs' logs: no team's user is this, as a team's name (a
 * DNS label) never starts with `-`.
 */
export function logArchiveStoreUserName(config: PlatformConfig): string {
  return `plinth-${config.name}--logs`;
}

/** The admin's keys of an S3-compatible store: MinIO's admin user, or the platform's own store's root. */
export interface StoreAdminKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * A Secret the deployer writes for the store's users, with values it derives from the admin's keys;
 * never in a manifest.
 */
export interface StoreSecret {
  readonly name: string;
  readonly namespace: string;
  /**
   * Holds the keys of a user the Job makes: written once the Job has run, so that no client holds
   * keys the store does not know yet.
   */
  readonly afterUsers: boolean;
  readonly stringData: (admin: StoreAdminKeys) => Record<string, string>;
}

/**
 * Every Secret the store's users need, as the deployer writes them: the Job's (each user's secret
 * key, and MinIO's admin keys), each team's `artifact-store-<team>` in its namespace, the
 * controller's `log-archive`, and for the platform's own store its root Secret and the platform's
 * credential (whose keys are derived like the teams'). One list, so that `pulumi up` and the local harness write the same.
 */
export function storeSecrets(config: PlatformConfig): StoreSecret[] {
  const store = storeWithUsers(config);
  const { accessKeyIdKey, secretAccessKeyKey } = store.credentials.secret;
  const namespace = config.namespace;
  const teamKeys = (admin: StoreAdminKeys) =>
    Object.fromEntries(
      config.teams.map((t) => [
        STORE_USERS_SECRET_KEYS.team(t.name),
        teamSecretKey(admin.secretAccessKey, config.name, t.name),
      ]),
    );
  const teams: StoreSecret[] = config.teams.map((t) => ({
    name: teamArtifactStoreSecretName(t.name),
    namespace: teamNamespaceName(config, t.name),
    afterUsers: true,
    stringData: (admin) => ({
      [accessKeyIdKey]: storeUserName(config, t.name),
      [secretAccessKeyKey]: teamSecretKey(admin.secretAccessKey, config.name, t.name),
    }),
  }));
  const logArchive: StoreSecret = {
    name: LOG_ARCHIVE_SECRET,
    namespace,
    afterUsers: true,
    stringData: (admin) => ({
      [accessKeyIdKey]: logArchiveStoreUserName(config),
      [secretAccessKeyKey]: logArchiveSecretKey(admin.secretAccessKey, config.name),
    }),
  };
  if (!store.server) {
    return [
      {
        name: STORE_USERS_COMPONENT,
        namespace,
        afterUsers: false,
        stringData: (admin) => ({
          [STORE_USERS_SECRET_KEYS.adminAccessKeyId]: admin.accessKeyId,
          [STORE_USERS_SECRET_KEYS.adminSecretAccessKey]: admin.secretAccessKey,
          [STORE_USERS_SECRET_KEYS.logArchive]: logArchiveSecretKey(admin.secretAccessKey, config.name),
          ...teamKeys(admin),
        }),
      },
      logArchive,
      ...teams,
    ];
  }
  return [
    {
      name: store.server.rootSecret,
      namespace,
      afterUsers: false,
      stringData: (admin) => ({
        [OBJECT_STORE_ROOT_KEYS.accessKeyId]: admin.accessKeyId,
        [OBJECT_STORE_ROOT_KEYS.secretAccessKey]: admin.secretAccessKey,
      }),
    },
    {
      name: STORE_USERS_COMPONENT,
      namespace,
      afterUsers: false,
      stringData: (admin) => ({
        [STORE_USERS_SECRET_KEYS.platform]: platformSecretKey(admin.secretAccessKey, config.name),
        [STORE_USERS_SECRET_KEYS.logArchive]: logArchiveSecretKey(admin.secretAccessKey, config.name),
        ...teamKeys(admin),
      }),
    },
    {
      name: store.credentials.secret.name,
      namespace,
      afterUsers: true,
      stringData: (admin) => ({
        [accessKeyIdKey]: platformStoreUserName(config),
        [secretAccessKeyKey]: platformSecretKey(admin.secretAccessKey, config.name),
      }),
    },
    logArchive,
    ...teams,
  ];
}

/** The store whose users the platform makes: S3 with an endpoint and Secret credentials. */
function storeWithUsers(config: PlatformConfig) {
  const store = config.artifacts;
  if (store.kind !== 's3' || !store.endpoint || !('secret' in store.credentials)) {
    throw new Error(
      'per-team store users need an S3-compatible store with an admin API: artifacts must be "s3" with an endpoint and a secret',
    );
  }
  return { ...store, endpoint: store.endpoint, credentials: store.credentials };
}

/**
 * MinIO's flavour. Run again on every `pulumi up` whose plan or keys changed: a policy is replaced,
 * a user's key updated, an attached policy left attached. It prints no key. Users of teams that
 * left the config are left in the store, with their policy.
 */
const MINIO_SCRIPT = `set -eu
mc alias set store "$STORE_ENDPOINT" "$(cat ${KEYS_PATH}/${STORE_USERS_SECRET_KEYS.adminAccessKeyId})" "$(cat ${KEYS_PATH}/${STORE_USERS_SECRET_KEYS.adminSecretAccessKey})" >/dev/null
while read -r team user; do
  mc admin policy create store "$user" "${PLAN_PATH}/policy-$team.json" >/dev/null
  mc admin user add store "$user" "$(cat "${KEYS_PATH}/team-$team")" >/dev/null
  mc admin policy attach store "$user" --user "$user" >/dev/null
  echo "team $team: user $user, with a policy on the team's prefixes only"
done < ${PLAN_PATH}/teams
read -r user < ${PLAN_PATH}/log-archive-user
mc admin policy create store "$user" "${PLAN_PATH}/policy-log-archive.json" >/dev/null
mc admin user add store "$user" "$(cat ${KEYS_PATH}/${STORE_USERS_SECRET_KEYS.logArchive})" >/dev/null
mc admin policy attach store "$user" --user "$user" >/dev/null
echo "log archive: user $user, with a policy on the logs prefix only"
`;

/**
 * The platform's own store's flavour (versitygw), which has per-user keys but no user policies:
 * each user is made (or its key updated) through the admin API with `versitygw admin`, then one
 * bucket policy says what each may do, naming each user as Principal, and is put with boto3 as the
 * root user. Run again, it changes only what differs: a user of a team that left the config stays
 * in the store, but the policy replaced names it no more, so it reaches nothing. It prints no key;
 * a user's secret key is an argument of `versitygw admin`, which only this pod's processes see.
 */
export const VERSITYGW_SCRIPT = `"""Makes the store's users and its bucket policy, as plan.json says."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import boto3
from botocore.config import Config

with open(os.path.join(os.environ["PLAN_DIR"], "plan.json")) as f:
    plan = json.load(f)


def wait_for_store(deadline_seconds=300):
    """The Job may start before the store serves (its claim, its image): wait rather than fail."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            with urllib.request.urlopen(os.environ["STORE_HEALTH_URL"], timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError as error:
            if time.monotonic() > deadline:
                sys.exit(f"the store did not answer at {os.environ['STORE_HEALTH_URL']}: {error}")
        time.sleep(2)


def admin(command, user, secret_key):
    return subprocess.run(
        ["versitygw", "admin", command, "--access", user, "--secret", secret_key, "--role", "user"],
        capture_output=True,
        text=True,
    )


wait_for_store()
for user in plan["users"]:
    with open(os.path.join(os.environ["KEYS_DIR"], user["secretKey"])) as f:
        secret_key = f.read()
    done = admin("update-user", user["accessKeyId"], secret_key)
    if done.returncode != 0 and "XAdminUserNotFound" in done.stderr:
        done = admin("create-user", user["accessKeyId"], secret_key)
    if done.returncode != 0:
        sys.exit(f"{user['for']}: user {user['accessKeyId']} was not made: {done.stderr.strip()}")
    print(f"{user['for']}: user {user['accessKeyId']}")

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["STORE_ENDPOINT"],
    region_name=plan["region"],
    aws_access_key_id=os.environ["ADMIN_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["ADMIN_SECRET_ACCESS_KEY"],
    config=Config(s3={"addressing_style": "path"}),
)
bucket = plan["bucket"]
try:
    if plan["region"] == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": plan["region"]})
    print(f"bucket {bucket}: made, owned by the root user")
except s3.exceptions.BucketAlreadyOwnedByYou:
    print(f"bucket {bucket}: already there")
s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(plan["bucketPolicy"]))
print(f"bucket {bucket}: a policy of {len(plan['bucketPolicy']['Statement'])} statements, each naming its user")
`;

/** What the versitygw flavour's Job applies: each user, and the one bucket policy that scopes them. */
export interface VersitygwUsersPlan {
  readonly bucket: string;
  readonly region: string;
  readonly users: readonly {
    readonly accessKeyId: string;
    /** The key of the Job's Secret that holds the user's secret key. */
    readonly secretKey: string;
    /** Whose user it is, as the Job's log says. */
    readonly for: string;
  }[];
  readonly bucketPolicy: PolicyDocument;
}

/** `ml-ops` → `MlOps`: statement ids take letters and digits only. */
const pascal = (name: string) =>
  name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/**
 * The platform's user (the tracking server's and Postgres's credential) and each team's, with the
 * policies of model/store-access.ts, the same documents that are IAM role policies on AWS and user
 * policies in MinIO.
 */
export function versitygwUsersPlan(config: PlatformConfig): VersitygwUsersPlan {
  const store = storeWithUsers(config);
  const bucketArn = arnOfBucket(store.bucket);
  const platform = {
    accessKeyId: platformStoreUserName(config),
    secretKey: STORE_USERS_SECRET_KEYS.platform,
    for: 'the platform (tracking, backups)',
  };
  const logArchive = {
    accessKeyId: logArchiveStoreUserName(config),
    secretKey: STORE_USERS_SECRET_KEYS.logArchive,
    for: 'the log archive (the controller)',
  };
  const teams = config.teams.map((t) => ({
    accessKeyId: storeUserName(config, t.name),
    secretKey: STORE_USERS_SECRET_KEYS.team(t.name),
    for: `team ${t.name}`,
  }));
  return {
    bucket: store.bucket,
    region: store.region,
    users: [platform, logArchive, ...teams],
    bucketPolicy: bucketPolicyOf([
      { principal: platform.accessKeyId, sidSuffix: 'Platform', policy: platformStorePolicy(bucketArn, store.prefix) },
      {
        principal: logArchive.accessKeyId,
        sidSuffix: 'LogArchive',
        policy: logArchiveStorePolicy(bucketArn, store.prefix),
      },
      ...config.teams.map((t) => ({
        principal: storeUserName(config, t.name),
        sidSuffix: `Team${pascal(t.name)}`,
        policy: teamStorePolicy(bucketArn, store.prefix, t.name),
      })),
    ]),
  };
}

/** How one store's users are made: the Job's container and its plan. */
interface Flavour {
  readonly plan: Record<string, string>;
  readonly image: string;
  readonly command: string[];
  readonly env: k8s.EnvVar[];
  /** Ways out besides the store's S3 port. */
  readonly egress: k8s.NetworkPolicyEgressRule[];
}

function minioFlavour(config: PlatformConfig): Flavour {
  const store = storeWithUsers(config);
  return {
    plan: {
      'create-users.sh': MINIO_SCRIPT,
      teams: config.teams.map((t) => `${t.name} ${storeUserName(config, t.name)}\n`).join(''),
      'log-archive-user': `${logArchiveStoreUserName(config)}\n`,
      'policy-log-archive.json':
        JSON.stringify(logArchiveStorePolicy(arnOfBucket(store.bucket), store.prefix), null, 2) + '\n',
      ...Object.fromEntries(
        config.teams.map((t) => [
          `policy-${t.name}.json`,
          JSON.stringify(teamStorePolicy(arnOfBucket(store.bucket), store.prefix, t.name), null, 2) + '\n',
        ]),
      ),
    },
    image: MINIO_CLIENT_IMAGE,
    command: ['/bin/sh', `${PLAN_PATH}/create-users.sh`],
    env: [
      { name: 'STORE_ENDPOINT', value: store.endpoint },
      // mc keeps its aliases under its config directory; the root filesystem is read-only.
      { name: 'MC_CONFIG_DIR', value: '/tmp/mc' },
    ],
    egress: [],
  };
}

function versitygwFlavour(config: PlatformConfig, rootSecret: string): Flavour {
  const store = storeWithUsers(config);
  const root = (key: string): k8s.EnvVarSource => ({ secretKeyRef: { name: rootSecret, key } });
  return {
    plan: {
      'create-users.py': VERSITYGW_SCRIPT,
      'plan.json': JSON.stringify(versitygwUsersPlan(config), null, 2) + '\n',
    },
    // The init image carries versitygw's own admin client and boto3.
    image: config.images.init,
    command: ['python3', `${PLAN_PATH}/create-users.py`],
    env: [
      { name: 'PLAN_DIR', value: PLAN_PATH },
      { name: 'KEYS_DIR', value: KEYS_PATH },
      { name: 'STORE_ENDPOINT', value: store.endpoint },
      { name: 'STORE_HEALTH_URL', value: `${store.endpoint}${OBJECT_STORE_HEALTH_PATH}` },
      // `versitygw admin` reads these three; boto3 is given the same keys.
      { name: 'ADMIN_ENDPOINT_URL', value: objectStoreAdminEndpoint(config.namespace) },
      { name: 'ADMIN_ACCESS_KEY_ID', valueFrom: root(OBJECT_STORE_ROOT_KEYS.accessKeyId) },
      { name: 'ADMIN_SECRET_ACCESS_KEY', valueFrom: root(OBJECT_STORE_ROOT_KEYS.secretAccessKey) },
    ],
    // The admin API answers on a port of its own, on the store's pods.
    egress: [
      {
        to: [podsPeer(selectorLabels(OBJECT_STORE_COMPONENT))],
        ports: [tcp(OBJECT_STORE_PORTS.admin)],
      },
    ],
  };
}

export interface StoreUsersProps {
  readonly config: PlatformConfig;
  /**
   * Changes whenever the keys do, so that the Job runs again; never the keys themselves. Only a
   * deployer that holds the keys knows it (`pulumi up`); without it, the Job runs again when its
   * plan changes, and a deployer that changes the keys makes the Job again.
   */
  readonly keysRevision?: string;
}

/**
 * What makes each team's user in an S3-compatible store, with a policy on the team's prefixes only
 * (model/store-access.ts): a ConfigMap with the plan, a Job in the platform namespace that applies
 * it with the admin's keys, and its way out to the store. Two flavours, by the store: MinIO's
 * admin API and user policies through `mc` for a store outside the platform (`pulumi up` runs it),
 * versitygw's users and one bucket policy for the platform's own store (`artifacts.server`, in the
 * platform chart). The keys are in Secrets the deployer writes beside them (storeSecrets); this
 * construct holds none. The Job has no token: it never calls the Kubernetes API.
 */
export class StoreUsers extends Construct {
  constructor(scope: Construct, id: string, props: StoreUsersProps) {
    super(scope, id);
    const { config } = props;
    const store = storeWithUsers(config);
    const flavour = store.server ? versitygwFlavour(config, store.server.rootSecret) : minioFlavour(config);
    const namespace = config.namespace;
    const labels = componentLabels(config.name, STORE_USERS_COMPONENT);
    const metadata = { name: STORE_USERS_COMPONENT, namespace, labels };

    new k8s.KubeConfigMap(this, 'plan', { metadata, data: flavour.plan });

    new k8s.KubeJob(this, 'job', {
      metadata,
      spec: {
        backoffLimit: 4,
        activeDeadlineSeconds: 600,
        template: {
          metadata: {
            labels,
            // A changed plan or key is a changed template: the Job is made again, and runs again.
            annotations: {
              'plinth.dev/plan-revision': createHash('sha256')
                .update(JSON.stringify(flavour.plan))
                .digest('hex')
                .slice(0, 16),
              ...(props.keysRevision === undefined ? {} : { 'plinth.dev/keys-revision': props.keysRevision }),
            },
          },
          spec: platformJobPod(
            config,
            {
              name: 'create-users',
              image: flavour.image,
              command: flavour.command,
              env: flavour.env,
              resources: {
                requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('32Mi') },
                limits: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('128Mi') },
              },
            },
            [
              { name: 'plan', mountPath: PLAN_PATH, from: { configMap: { name: STORE_USERS_COMPONENT } } },
              { name: 'keys', mountPath: KEYS_PATH, from: { secret: { secretName: STORE_USERS_COMPONENT } } },
            ],
          ),
        },
      },
    });

    // Out to the store's S3 API, on the store's port only, and to its admin port where it has one.
    const destination = artifactStoreEgress(config);
    if (destination) {
      new AllowTraffic(this, 'network-policy', {
        metadata: { name: `allow-${STORE_USERS_COMPONENT}`, namespace, labels },
        podSelector: { matchLabels: selectorLabels(STORE_USERS_COMPONENT) },
        egress: [egressTo(destination), ...flavour.egress],
      });
    }
  }
}

/** The objects of StoreUsers for a store outside the platform, as `pulumi up` deploys them beside the chart. */
export function renderStoreUsers(config: PlatformConfig, keysRevision: string): Record<string, unknown>[] {
  const chart = new Chart(new App(), STORE_USERS_COMPONENT, { disableResourceNameHashes: true });
  new StoreUsers(chart, 'store-users', { config, keysRevision });
  return chart.toJson() as Record<string, unknown>[];
}
