import type { ImageDefinition } from '../definition.js';
import { cloudnativePg } from './cloudnative-pg.js';
import { controller } from './controller.js';
import { coredns } from './coredns.js';
import { init } from './init.js';
import { objectStore } from './object-store.js';
import { pause } from './pause.js';
import { postgres } from './postgres.js';
import { python } from './python.js';
import { tracking } from './tracking.js';

/** Every image `npm run images` builds, in the order it builds them. */
export const IMAGES = [
  pause,
  coredns,
  controller,
  init,
  python,
  tracking,
  postgres,
  cloudnativePg,
  objectStore,
] as const satisfies readonly ImageDefinition[];
