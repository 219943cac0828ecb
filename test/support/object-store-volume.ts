import { chmodSync, mkdirSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { PlatformConfig } from '../../model/config/schema.js';
import { OBJECT_STORE_COMPONENT } from '../../model/names.js';

/**
 * A volume for the claim of the platform's own store (`artifacts.server`), on a test control
 * plane where nothing provisions one: without it the claim stays Pending, the store's pod is never
 * scheduled and `pulumi up` waits for the claim until it gives up. Bound to the claim ahead of it
 * (claimRef), so that no other claim takes it. A folder of this machine, which any user may write:
 * the kubelet does not give a hostPath volume to the pod's fsGroup, and kwok's pods never mount it.
 */
export function objectStoreVolume(config: PlatformConfig, folder: string): KubernetesObject[] {
  const store = config.artifacts;
  if (store.kind !== 's3' || !store.server) return [];
  mkdirSync(folder, { recursive: true });
  chmodSync(folder, 0o777);
  return [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `${config.name}-${OBJECT_STORE_COMPONENT}` },
      spec: {
        capacity: { storage: store.server.storage.size },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: store.server.storage.storageClass ?? '',
        hostPath: { path: folder, type: 'Directory' },
        claimRef: { namespace: config.namespace, name: OBJECT_STORE_COMPONENT },
      },
    } as KubernetesObject,
  ];
}
