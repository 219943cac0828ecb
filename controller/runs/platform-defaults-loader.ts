import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Value } from '@sinclair/typebox/value';
import { PLATFORM_DEFAULTS_KEY, PlatformDefaults } from '../api/platform-defaults.js';

/**
 * The defaults in the ConfigMap's text, failing loudly with every field that does not match the
 * schema: a ConfigMap written by other constructs than the controller's must be redeployed, not
 * half-read.
 */
export function parsePlatformDefaults(text: string, where: string): PlatformDefaults {
  const defaults: unknown = JSON.parse(text);
  if (Value.Check(PlatformDefaults, defaults)) return defaults;
  // A missing field is reported twice, as required and as its type: once per path is enough.
  const errors = new Map<string, string>();
  for (const error of Value.Errors(PlatformDefaults, defaults)) {
    if (!errors.has(error.path)) errors.set(error.path, error.message);
  }
  throw new Error([...errors].map(([path, message]) => `${where}: ${path || '/'}: ${message}`).join('\n'));
}

/** Reads the defaults the constructs wrote into the controller's ConfigMap. */
export async function loadPlatformDefaults(kc: KubeConfig, namespace: string, name: string): Promise<PlatformDefaults> {
  const map = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name, namespace });
  const text = map.data?.[PLATFORM_DEFAULTS_KEY];
  if (!text) throw new Error(`ConfigMap ${namespace}/${name} has no ${PLATFORM_DEFAULTS_KEY}`);
  return parsePlatformDefaults(text, `ConfigMap ${namespace}/${name} ${PLATFORM_DEFAULTS_KEY}`);
}
