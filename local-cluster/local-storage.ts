import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * The local cluster's storage, as a small onprem cluster often has it: a default StorageClass of
 * local volumes (folders on a node, bound where the first pod that claims one is scheduled), made
 * ahead by the harness, since nothing provisions them. Postgres and the artifact store claim them.
 */
export const LOCAL_STORAGE_CLASS = 'local';

/** Enough for the platform's claims (Postgres's instances, the store) with room for a test's own. */
const VOLUMES_PER_NODE = 4;
/** Nominal: a local volume is a folder of the host's disk, and nothing enforces its size. */
const VOLUME_CAPACITY = '20Gi';

export interface VolumeNode {
  readonly name: string;
  /** The node's folder: its volumes are folders under it, removed with it. */
  readonly dir: string;
}

/** The StorageClass and every node's volumes, with their folders made. */
export function localStorage(nodes: readonly VolumeNode[]): KubernetesObject[] {
  const storageClass = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: LOCAL_STORAGE_CLASS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: 'kubernetes.io/no-provisioner',
    // A claim binds once its pod is scheduled, to a volume on that pod's node.
    volumeBindingMode: 'WaitForFirstConsumer',
    reclaimPolicy: 'Retain',
  } as KubernetesObject;
  const volumes = nodes.flatMap((node) =>
    Array.from({ length: VOLUMES_PER_NODE }, (_, i) => {
      const path = join(node.dir, 'volumes', `volume-${i}`);
      mkdirSync(path, { recursive: true });
      return {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `${node.name}-volume-${i}` },
        spec: {
          capacity: { storage: VOLUME_CAPACITY },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: LOCAL_STORAGE_CLASS,
          local: { path },
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node.name] }] },
              ],
            },
          },
        },
      } as KubernetesObject;
    }),
  );
  return [storageClass, ...volumes];
}
