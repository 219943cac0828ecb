import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults } from './api/platform-defaults.js';

const REQUIRED: (keyof PlatformDefaults)[] = [
  'environment',
  'defaultPool',
  'pools',
  'podSecurityContext',
  'containerSecurityContext',
  'runServiceAccount',
  'trackingUri',
  'externalServices',
  'artifacts',
  'connections',
  'teams',
];

/** Reads the defaults the constructs wrote into the controller's ConfigMap, failing loudly on a bad one. */
export async function loadPlatformDefaults(kc: KubeConfig, namespace: string, name: string): Promise<PlatformDefaults> {
  const map = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name, namespace });
  const text = map.data?.[PLATFORM_DEFAULTS_KEY];
  if (!text) throw new Error(`ConfigMap ${namespace}/${name} has no ${PLATFORM_DEFAULTS_KEY}`);
  const defaults = JSON.parse(text) as PlatformDefaults;
  const missing = REQUIRED.filter((k) => defaults[k] === undefined);
  if (missing.length > 0) {
    throw new Error(`ConfigMap ${namespace}/${name} ${PLATFORM_DEFAULTS_KEY} lacks: ${missing.join(', ')}`);
  }
  return defaults;
}
