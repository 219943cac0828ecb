import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * The platform's init steps: fetching sources with git over HTTPS, and objects from the artifact
 * store with MinIO's S3 client, `mc`, as the toolchain builds it.
 */
export const init: ImageDefinition = {
  name: 'init',
  base: { kind: 'debian', packages: ['ca-certificates', 'git'] },
  steps: [{ kind: 'toolchain-binary', binary: 'mc', to: '/usr/local/bin/mc' }],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID, account: 'plinth' },
  env: { LANG: 'C.UTF-8' },
  entrypoint: [],
  cmd: ['/bin/sh'],
  workdir: '/tmp',
  inputs: [],
};
