import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults, type TeamDefaults } from './api/platform-defaults.js';

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

const TEAM_REQUIRED: (keyof TeamDefaults)[] = [
  'team',
  'maxConcurrentRuns',
  'gpu',
  'pools',
  'connections',
  'servicesHost',
];

/**
 * The defaults in the ConfigMap's text, failing loudly on any field they lack: a ConfigMap written
 * by older constructs than the controller's must be redeployed, not half-read.
 */
export function parsePlatformDefaults(text: string, where: string): PlatformDefaults {
  const defaults = JSON.parse(text) as PlatformDefaults;
  const missing: string[] = REQUIRED.filter((k) => defaults[k] === undefined);
  for (const [namespace, team] of Object.entries(defaults.teams ?? {})) {
    missing.push(...TEAM_REQUIRED.filter((k) => team[k] === undefined).map((k) => `teams["${namespace}"].${k}`));
  }
  if (missing.length > 0) throw new Error(`${where} lacks: ${missing.join(', ')}`);
  return defaults;
}

/** Reads the defaults the constructs wrote into the controller's ConfigMap. */
export async function loadPlatformDefaults(kc: KubeConfig, namespace: string, name: string): Promise<PlatformDefaults> {
  const map = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name, namespace });
  const text = map.data?.[PLATFORM_DEFAULTS_KEY];
  if (!text) throw new Error(`ConfigMap ${namespace}/${name} has no ${PLATFORM_DEFAULTS_KEY}`);
  return parsePlatformDefaults(text, `ConfigMap ${namespace}/${name} ${PLATFORM_DEFAULTS_KEY}`);
}
