import * as pulumi from '@pulumi/pulumi';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../environments/index.js';
import { ClusterPlatform } from './components/cluster-platform.js';
import { clusterProvider } from './components/cluster-provider.js';
import type { PlatformConfig } from '../../model/config/schema.js';
import type { PlatformSecretSpec } from './components/platform-secret.js';
import { applyStackOverrides, CONFIG_NAMESPACE, StackConfigError, type StackConfig } from './stack-config.js';
import type { StackOutputs } from './stack-outputs.js';

/** local and onprem: the platform into an existing cluster, named by a kubeconfig context. */
export function deployToCluster(stack: StackConfig): StackOutputs {
  const base = environments[stack.environment];
  if (!base) throw new Error(`no environment "${stack.environment}" in stacks/environments`);
  const config = validatePlatformConfig(stack.stack, applyStackOverrides(base, stack));
  const provider = clusterProvider('cluster', { context: stack.kubeContext });
  const platform = new ClusterPlatform(
    'platform',
    { config, awaitIngress: stack.awaitIngress, secrets: artifactCredentialSecrets(config, stack) },
    { providers: [provider] },
  );
  return { environment: stack.environment, platformNamespace: config.namespace, objectCount: platform.objectCount };
}

/** The artifact store's keys, from `plinth:artifactCredentials`, as the Secret its config names. */
function artifactCredentialSecrets(config: PlatformConfig, stack: StackConfig): PlatformSecretSpec[] {
  if (!stack.artifactCredentials) return [];
  const store = config.artifacts;
  if (store.kind !== 's3' || !('secret' in store.credentials)) {
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
      scope: 'platform-and-teams',
      stringData: keys.apply((k) => ({ [accessKeyIdKey]: k.accessKeyId, [secretAccessKeyKey]: k.secretAccessKey })),
    },
  ];
}
