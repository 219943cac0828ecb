import { createHash } from 'node:crypto';
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import { STORE_USERS_COMPONENT } from '../model/names.js';
import { corePlacement } from '../model/pools.js';
import { containerSecurityContext, podSecurityContext } from '../model/security-floor.js';
import { arnOfBucket, teamStorePolicy } from '../model/store-access.js';
import { AllowTraffic, artifactStoreEgress, egressTo } from './network-policies.js';

/**
 * The MinIO client the Job runs. Pinned here, as the operators' charts are, since only `pulumi up`
 * deploys it: an upgrade is a reviewed change. Releases since late 2024 attach an attached policy
 * again without failing, which the script relies on to be run again.
 */
export const MINIO_CLIENT_IMAGE = 'quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z';

/** Where the Job finds its keys (the Secret of STORE_USERS_COMPONENT) and its plan (the ConfigMap). */
const KEYS_PATH = '/var/run/secrets/plinth/store-users';
const PLAN_PATH = '/etc/plinth/store-users';

/** The keys of the Job's Secret, which `pulumi up` writes from its secret config. */
export const STORE_USERS_SECRET_KEYS = {
  adminAccessKeyId: 'admin-access-key-id',
  adminSecretAccessKey: 'admin-secret-access-key',
  team: (team: string) => `team-${team}`,
} as const;

/** A team's user in the store, which is also its policy's name: one per environment, so that two platforms can share a store. */
export function storeUserName(config: PlatformConfig, team: string): string {
  return `plinth-${config.name}-${team}`;
}

/**
 * Run again on every `pulumi up` whose plan or keys changed: a policy is replaced, a user's key
 * updated, an attached policy left attached. It prints no key. Users of teams that left the config
 * are left in the store.
 */
const SCRIPT = `set -eu
mc alias set store "$STORE_ENDPOINT" "$(cat ${KEYS_PATH}/${STORE_USERS_SECRET_KEYS.adminAccessKeyId})" "$(cat ${KEYS_PATH}/${STORE_USERS_SECRET_KEYS.adminSecretAccessKey})" >/dev/null
while read -r team user; do
  mc admin policy create store "$user" "${PLAN_PATH}/policy-$team.json" >/dev/null
  mc admin user add store "$user" "$(cat "${KEYS_PATH}/team-$team")" >/dev/null
  mc admin policy attach store "$user" --user "$user" >/dev/null
  echo "team $team: user $user, with a policy on the team's prefixes only"
done < ${PLAN_PATH}/teams
`;

export interface StoreUsersProps {
  readonly config: PlatformConfig;
  /** Changes whenever the keys do, so that the Job runs again; never the keys themselves. */
  readonly keysRevision: string;
}

/**
 * What makes each team's user in an S3-compatible store through MinIO's admin API: a ConfigMap
 * with the plan (each team's user and its policy, model/store-access.ts), a Job in the platform
 * namespace that applies it with the admin's keys, and its way out to the store. The keys are in
 * a Secret `pulumi up` writes beside them, and the team's own in `artifact-store-<team>`; this
 * construct holds none. The Job has no token: it never calls the Kubernetes API.
 */
export class StoreUsers extends Construct {
  constructor(scope: Construct, id: string, props: StoreUsersProps) {
    super(scope, id);
    const { config } = props;
    const store = config.artifacts;
    if (store.kind !== 's3' || !store.endpoint || !('secret' in store.credentials)) {
      throw new Error(
        'per-team store users are made through MinIO: artifacts must be "s3" with an endpoint and a secret',
      );
    }
    const namespace = config.namespace;
    const labels = componentLabels(config.name, STORE_USERS_COMPONENT);
    const metadata = { name: STORE_USERS_COMPONENT, namespace, labels };

    const plan: Record<string, string> = {
      'create-users.sh': SCRIPT,
      teams: config.teams.map((t) => `${t.name} ${storeUserName(config, t.name)}\n`).join(''),
      ...Object.fromEntries(
        config.teams.map((t) => [
          `policy-${t.name}.json`,
          JSON.stringify(teamStorePolicy(arnOfBucket(store.bucket), store.prefix, t.name), null, 2) + '\n',
        ]),
      ),
    };
    new k8s.KubeConfigMap(this, 'plan', { metadata, data: plan });

    const placement = corePlacement(config);
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
              'plinth.dev/plan-revision': createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16),
              'plinth.dev/keys-revision': props.keysRevision,
            },
          },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(config.security),
            nodeSelector: placement.nodeSelector,
            tolerations: placement.tolerations,
            containers: [
              {
                name: 'create-users',
                image: MINIO_CLIENT_IMAGE,
                command: ['/bin/sh', `${PLAN_PATH}/create-users.sh`],
                env: [
                  { name: 'STORE_ENDPOINT', value: store.endpoint },
                  // mc keeps its aliases under its config directory; the root filesystem is read-only.
                  { name: 'MC_CONFIG_DIR', value: '/tmp/mc' },
                ],
                resources: {
                  requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('32Mi') },
                  limits: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('128Mi') },
                },
                securityContext: containerSecurityContext(),
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'plan', mountPath: PLAN_PATH, readOnly: true },
                  { name: 'keys', mountPath: KEYS_PATH, readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
              { name: 'plan', configMap: { name: STORE_USERS_COMPONENT } },
              { name: 'keys', secret: { secretName: STORE_USERS_COMPONENT } },
            ],
          },
        },
      },
    });

    // Out to the store's admin API, on the store's port only.
    const destination = artifactStoreEgress(config);
    if (destination) {
      new AllowTraffic(this, 'network-policy', {
        metadata: { name: `allow-${STORE_USERS_COMPONENT}`, namespace, labels },
        podSelector: { matchLabels: selectorLabels(STORE_USERS_COMPONENT) },
        egress: [egressTo(destination)],
      });
    }
  }
}

/** The objects of StoreUsers, as Pulumi deploys them. */
export function renderStoreUsers(config: PlatformConfig, keysRevision: string): Record<string, unknown>[] {
  const chart = new Chart(new App(), STORE_USERS_COMPONENT, { disableResourceNameHashes: true });
  new StoreUsers(chart, 'store-users', { config, keysRevision });
  return chart.toJson() as Record<string, unknown>[];
}
