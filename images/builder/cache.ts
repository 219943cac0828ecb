/** Where built images and what builds them are kept: outside the repository, beside the toolchain. */
import { join } from 'node:path';
import { cacheDir } from '../../local-cluster/toolchain.js';

export function imagesCacheDir(): string {
  return join(cacheDir(), 'images');
}
