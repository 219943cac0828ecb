import * as pulumi from '@pulumi/pulumi';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../environments/index.js';
import { ClusterPlatform } from './components/cluster-platform.js';
import { clusterProvider } from './components/cluster-provider.js';
import type { PlatformConfig } from '../../model/config/schema.js';
import type { PlatformSecretSpec } from './components/platform-secret.js';
import { storeKeysRevision, TeamStoreUsers } from './components/team-store-users.js';
import { resourceName } from './components/kubernetes-objects.js';
import type { StoreAdminKeys } from '../../constructs/store-users.js';
import { STORE_USERS_COMPONENT } from '../../model/names.js';
import { applyStackOverrides, CONFIG_NAMESPACE, StackConfigError, type StackConfig } from './stack-config.js';
import type { StackOutputs } from './stack-outputs.js';

/** local and onprem: the platform into an existing cluster, named by a kubeconfig context. */
export function deployToCluster(stack: StackConfig): StackOutputs {
  const base = environments[stack.environment];
  if (!base) throw new Error(`no environment "${stack.environment}" in stacks/environments`);
  const config = validatePlatformConfig(stack.stack, applyStackOverrides(base, stack));
  const secrets = artifactCredentialSecrets(config, stack);
  const admin = storeAdminKeys(config, stack);
  const ownStore = platformStore(config);
  const provider = clusterProvider('cluster', { context: stack.kubeContext });
  const platform = new ClusterPlatform(
    'platform',
    {
      config,
      awaitIngress: stack.awaitIngress,
      secrets,
      storeKeysRevision: ownStore && admin ? storeKeysRevision(config, admin) : undefined,
    },
    { providers: [provider] },
  );
  const jobName = ownStore && resourceName({ apiVersion: 'batch/v1', kind: 'Job', metadata: ownStore.job });
  const chartJob = jobName ? platform.resources.get(jobName) : undefined;
  if (jobName && !chartJob) throw new Error(`unreachable: the chart of a platform with its own store has ${jobName}`);
  const users = admin
    ? new TeamStoreUsers(
        'team-store-users',
        { config, admin, dependsOn: platform.namespaces, chartJob },
        { providers: [provider] },
      )
    : undefined;
  return {
    environment: stack.environment,
    platformNamespace: config.namespace,
    objectCount: platform.objectCount + (users?.objectCount ?? 0),
  };
}

/** Whether the store takes S3 keys from a Secret, which the stack can write and its admin API make. */
function storeWithKeys(config: PlatformConfig) {
  const store = config.artifacts;
  return store.kind === 's3' && 'secret' in store.credentials ? store : undefined;
}

/** The store the platform deploys itself, whose users' Job is in the chart. */
function platformStore(config: PlatformConfig) {
  const store = config.artifacts;
  if (store.kind !== 's3' || !store.server) return undefined;
  return { job: { name: STORE_USERS_COMPONENT, namespace: config.namespace } };
}

/**
 * The platform's keys to the artifact store (the tracking server's and Postgres's), from
 * `plinth:artifactCredentials`, as the Secret the config names, in the platform namespace only:
 * each team's runs have keys of their own. The platform's own store derives them from its root
 * keys instead, like the teams'.
 */
function artifactCredentialSecrets(config: PlatformConfig, stack: StackConfig): PlatformSecretSpec[] {
  if (!stack.artifactCredentials) return [];
  if (platformStore(config)) {
    throw new StackConfigError(stack.stack, [
      {
        key: `${CONFIG_NAMESPACE}:artifactCredentials`,
        message: `this environment's store is the platform's own (artifacts.server): the platform's keys are derived from ${CONFIG_NAMESPACE}:artifactStoreAdmin, like each team's; leave it out`,
      },
    ]);
  }
  const store = storeWithKeys(config);
  if (!store || !('secret' in store.credentials)) {
    throw new StackConfigError(stack.stack, [
      {
        key: `${CONFIG_NAMESPACE}:artifactCredentials`,
        message: "this environment's artifact store takes no keys (it is not S3 with Secret credentials)",
      },
    ]);
  }
  const { name, accessKeyIdKey, secretAccessKeyKey } = store.credentials.secret;
  const keys = new pulumi.Config(CONFIG_NAMESPACE).requireSecretObject<{
    accessKeyId: string;
    secretAccessKey: string;
  }>('artifactCredentials');
  return [
    {
      name,
      stringData: keys.apply((k) => ({ [accessKeyIdKey]: k.accessKeyId, [secretAccessKeyKey]: k.secretAccessKey })),
    },
  ];
}

/**
 * The admin's keys of an S3-compatible store, from `plinth:artifactStoreAdmin`, with which each
 * team's user is made: MinIO's admin user's, or the root keys of the platform's own store, which
 * cannot start without them.
 */
function storeAdminKeys(config: PlatformConfig, stack: StackConfig): pulumi.Output<StoreAdminKeys> | undefined {
  if (!stack.artifactStoreAdmin) {
    if (!platformStore(config)) return undefined;
    throw new StackConfigError(stack.stack, [
      {
        key: `${CONFIG_NAMESPACE}:artifactStoreAdmin`,
        message: `must be set: this environment's store is the platform's own (artifacts.server), whose root keys these are (pulumi config set --secret --path ${CONFIG_NAMESPACE}:artifactStoreAdmin.accessKeyId ..., and .secretAccessKey)`,
      },
    ]);
  }
  const store = storeWithKeys(config);
  if (!store?.endpoint) {
    throw new StackConfigError(stack.stack, [
      {
        key: `${CONFIG_NAMESPACE}:artifactStoreAdmin`,
        message:
          "this environment's artifact store has no admin API the platform knows: team users are made through MinIO's or the platform's own store's, for an S3 store with an endpoint and Secret credentials",
      },
    ]);
  }
  return new pulumi.Config(CONFIG_NAMESPACE).requireSecretObject<StoreAdminKeys>('artifactStoreAdmin');
}
