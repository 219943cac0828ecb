import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * The local platform's S3-compatible store: versitygw (Apache-2.0) serving a POSIX folder, with
 * per-user credentials and bucket policies that scope each team to its prefix.
 */
export const objectStore: ImageDefinition = {
  name: 'object-store',
  base: { kind: 'scratch' },
  steps: [{ kind: 'toolchain-binary', binary: 'versitygw', to: '/versitygw' }],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID },
  env: {},
  entrypoint: ['/versitygw'],
  cmd: [],
  workdir: '/',
  inputs: [],
};
