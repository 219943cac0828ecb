import type { V1EnvFromSource, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { Type, type Static } from '@sinclair/typebox';
import type { Connection } from './config/connections.js';
import type { PlatformConfig } from './config/schema.js';
import type { Team } from './config/teams.js';
import { KubernetesObject } from './kubernetes-schema.js';
import { connectionLabel } from './labels.js';

/**
 * What a run naming a connection gets in its pod, derived from config once and applied by the
 * controller to every container of the run. Secrets are referenced by name, never read.
 */
export const RunConnection = Type.Object({
  /** Pod labels: the connection's egress NetworkPolicy, if it has one, selects them. */
  labels: Type.Record(Type.String(), Type.String()),
  env: Type.Array(KubernetesObject<V1EnvVar>('A Kubernetes EnvVar.')),
  envFrom: Type.Array(KubernetesObject<V1EnvFromSource>('A Kubernetes EnvFromSource.')),
  volumes: Type.Array(KubernetesObject<V1Volume>('A Kubernetes Volume.')),
  volumeMounts: Type.Array(KubernetesObject<V1VolumeMount>('A Kubernetes VolumeMount.')),
});
export type RunConnection = Static<typeof RunConnection>;

export function runConnection(connection: Connection): RunConnection {
  const { name, secret, configMap, volumeClaim } = connection;
  const envFrom: V1EnvFromSource[] = [];
  const volumes: V1Volume[] = [];
  const volumeMounts: V1VolumeMount[] = [];
  const mount = (volume: V1Volume, mountPath: string, readOnly: boolean) => {
    volumes.push(volume);
    volumeMounts.push({ name: volume.name, mountPath, readOnly });
  };

  if (secret?.mountPath) {
    mount({ name: `conn-${name}-secret`, secret: { secretName: secret.name } }, secret.mountPath, true);
  } else if (secret) envFrom.push({ secretRef: { name: secret.name } });
  if (configMap?.mountPath) {
    mount({ name: `conn-${name}-config`, configMap: { name: configMap.name } }, configMap.mountPath, true);
  } else if (configMap) envFrom.push({ configMapRef: { name: configMap.name } });
  if (volumeClaim) {
    const { claimName, mountPath, readOnly } = volumeClaim;
    mount({ name: `conn-${name}-claim`, persistentVolumeClaim: { claimName, readOnly } }, mountPath, readOnly);
  }

  return {
    labels: { [connectionLabel(name)]: 'true' },
    env: Object.entries(connection.env).map(([key, value]) => ({ name: key, value })),
    envFrom,
    volumes,
    volumeMounts,
  };
}

/** The connections a team's runs may name: its own list, or every connection of the platform. */
export function teamConnections(config: PlatformConfig, team: Team): Connection[] {
  return config.connections.filter((c) => team.connections?.includes(c.name) ?? true);
}
