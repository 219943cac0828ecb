import { imageReference } from '../../images/reference.js';
import type { PlatformConfig } from '../../model/config/schema.js';

/** The registry the example onprem and aws environments pull from; a stack names its own. */
export const EXAMPLE_REGISTRY = 'registry.example.com/plinth';

/** Each image of the platform config, by the name `npm run images` builds it under. */
export const PLATFORM_IMAGE_NAMES = {
  controller: 'controller',
  trackingServer: 'tracking',
  postgres: 'postgres',
  init: 'init',
  objectStore: 'object-store',
} as const satisfies Record<keyof PlatformConfig['images'], string>;

/** The platform's images as built from this checkout, named in `registry`. */
export function platformImages(registry: string): PlatformConfig['images'] {
  const entries = Object.entries(PLATFORM_IMAGE_NAMES).map(([key, name]) => [key, imageReference(name, registry)]);
  return Object.fromEntries(entries) as PlatformConfig['images'];
}
