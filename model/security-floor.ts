import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import type { PlatformConfig } from './config/schema.js';

type Security = PlatformConfig['security'];

/**
 * The pod-level security floor: non-root uid/gid, fsGroup and the RuntimeDefault seccomp profile.
 * The same values go into the controller's ConfigMap so runs get the same floor.
 */
export function podSecurityContext(security: Security): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: security.runAsUser,
    runAsGroup: security.runAsGroup,
    fsGroup: security.fsGroup,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The container-level floor. Read-only root is the default; images that must write opt out. */
export function containerSecurityContext(options: { readOnlyRootFilesystem?: boolean } = {}): V1SecurityContext {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: options.readOnlyRootFilesystem ?? true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
