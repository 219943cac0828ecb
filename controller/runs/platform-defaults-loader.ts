import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults, type TeamDefaults } from '../api/platform-defaults.js';

/** Every field, so that one added to the defaults is checked too: leaving one out does not compile. */
const FIELDS: Record<keyof PlatformDefaults, true> = {
  environment: true,
  platformNamespace: true,
  defaultPool: true,
  pools: true,
  podSecurityContext: true,
  containerSecurityContext: true,
  runServiceAccount: true,
  trackingUri: true,
  externalServices: true,
  artifacts: true,
  connections: true,
  teams: true,
};
const TEAM_FIELDS: Record<keyof TeamDefaults, true> = {
  team: true,
  maxConcurrentRuns: true,
  gpu: true,
  pools: true,
  connections: true,
  servicesHost: true,
};
const lacking = <T extends object>(object: T, fields: Record<keyof T, true>) =>
  (Object.keys(fields) as (keyof T & string)[]).filter((k) => object[k] === undefined);

/**
 * The defaults in the ConfigMap's text, failing loudly on any field they lack: a ConfigMap written
 * by older constructs than the controller's must be redeployed, not half-read.
 */
export function parsePlatformDefaults(text: string, where: string): PlatformDefaults {
  const defaults = JSON.parse(text) as PlatformDefaults;
  const missing: string[] = lacking(defaults, FIELDS);
  for (const [namespace, team] of Object.entries(defaults.teams ?? {})) {
    missing.push(...lacking(team, TEAM_FIELDS).map((k) => `teams["${namespace}"].${k}`));
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
