import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { corePlacement } from '../model/pools.js';
import { containerSecurityContext, podSecurityContext } from '../model/security-floor.js';

/** A folder a platform Job mounts, read-only, from a ConfigMap or a Secret. */
export interface PlatformJobMount {
  readonly name: string;
  readonly mountPath: string;
  readonly from: Pick<k8s.Volume, 'configMap' | 'secret'>;
}

/**
 * The pod of one of the platform's own Jobs (the store's users, its expiry): on the core pool,
 * under the security floor, without a token (it never calls the Kubernetes API), run once, with a
 * small /tmp since the root filesystem is read-only, and the folders it is given, read-only.
 */
export function platformJobPod(
  config: PlatformConfig,
  container: Required<Pick<k8s.Container, 'name' | 'image' | 'command' | 'env' | 'resources'>>,
  mounts: readonly PlatformJobMount[],
): k8s.PodSpec {
  const placement = corePlacement(config);
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    securityContext: podSecurityContext(config.security),
    nodeSelector: placement.nodeSelector,
    tolerations: placement.tolerations,
    containers: [
      {
        ...container,
        imagePullPolicy: 'IfNotPresent',
        securityContext: containerSecurityContext(),
        volumeMounts: [
          { name: 'tmp', mountPath: '/tmp' },
          ...mounts.map((m) => ({ name: m.name, mountPath: m.mountPath, readOnly: true })),
        ],
      },
    ],
    volumes: [
      { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
      ...mounts.map((m) => ({ name: m.name, ...m.from })),
    ],
  };
}
