import type {
  V1EnvVar,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { RunConnection } from '../../model/connections.js';

/**
 * The platform defaults the controller applies to every run. The constructs write them into the
 * controller's ConfigMap under PLATFORM_DEFAULTS_KEY; the controller reads them back.
 */
export const PLATFORM_DEFAULTS_KEY = 'platform-defaults.json';

export interface PoolDefaults {
  readonly gpu: boolean;
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: V1Toleration[];
}

export interface TeamDefaults {
  readonly team: string;
  readonly maxConcurrentRuns: number;
  readonly gpu: number;
  readonly pools: string[];
  /** The connections the team's runs may name. */
  readonly connections: string[];
  /** The host the team's external service runs are served under. */
  readonly servicesHost: string;
}

export interface PlatformDefaults {
  readonly environment: string;
  readonly platformNamespace: string;
  readonly defaultPool: string;
  readonly pools: Record<string, PoolDefaults>;
  readonly podSecurityContext: V1PodSecurityContext;
  readonly containerSecurityContext: V1SecurityContext;
  /** Runs use this ServiceAccount (no API access, no token) unless they name another. */
  readonly runServiceAccount: string;
  readonly trackingUri: string;
  /** How external service runs are served: the IngressClass, and the TLS Secret in each team namespace. */
  readonly externalServices: { readonly ingressClassName: string; readonly tlsSecretName: string };
  readonly artifacts: {
    readonly uri: string;
    readonly env: V1EnvVar[];
    readonly volumes: V1Volume[];
    readonly volumeMounts: V1VolumeMount[];
  };
  /** The connections runs may name in spec.connections, keyed by name. */
  readonly connections: Record<string, RunConnection>;
  /** Keyed by team namespace. */
  readonly teams: Record<string, TeamDefaults>;
}
