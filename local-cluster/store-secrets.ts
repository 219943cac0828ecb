import { randomBytes } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { PlatformConfig } from '../model/config/schema.js';
import { storeSecrets, type StoreAdminKeys } from '../constructs/store-users.js';
import { applyOrThrow } from './server-side-apply.js';

/**
 * Admin keys for a store that lives and dies with one local cluster: made fresh by each `up`, so
 * that none is ever written into the repository or reused across clusters.
 */
function freshStoreAdminKeys(): StoreAdminKeys {
  return {
    accessKeyId: `plinth-root-${randomBytes(4).toString('hex')}`,
    secretAccessKey: randomBytes(24).toString('hex'),
  };
}

/**
 * Every Secret of the store's users (constructs/store-users.ts storeSecrets, the list `pulumi up`
 * writes too), with their namespaces, which `dist/local` cannot carry: the platform's own store
 * starts from its root Secret, its users Job reads their keys, the tracking server and Postgres
 * the platform's, and each team's runs their team's. Keys derived from the admin's as Pulumi
 * derives them.
 */
function storeSecretObjects(config: PlatformConfig, admin: StoreAdminKeys): KubernetesObject[] {
  const secrets = storeSecrets(config);
  const namespaces = [...new Set(secrets.map((s) => s.namespace))];
  return [
    ...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) as KubernetesObject),
    ...secrets.map(
      (secret) =>
        ({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: secret.name, namespace: secret.namespace },
          type: 'Opaque',
          stringData: secret.stringData(admin),
        }) as KubernetesObject,
    ),
  ];
}

/**
 * Writes every Secret of the store's users into the cluster, from fresh admin keys, with their
 * namespaces; returns the Secrets' `namespace/name`s.
 */
export async function writeFreshStoreSecrets(kc: KubeConfig, config: PlatformConfig): Promise<string[]> {
  const objects = storeSecretObjects(config, freshStoreAdminKeys());
  await applyOrThrow(kc, objects as never[]);
  return objects.filter((o) => o.kind === 'Secret').map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`);
}
