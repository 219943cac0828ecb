import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * The platform's init steps: fetching sources with git over HTTPS, and objects from the artifact
 * store. The S3 client, MinIO's `mc`, comes from the toolchain (local-cluster/toolchain/build.sh)
 * once it builds it: a step that copies a toolchain binary into the root goes here then.
 */
export const init: ImageDefinition = {
  name: 'init',
  base: { kind: 'debian', packages: ['ca-certificates', 'git'] },
  steps: [],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID, account: 'plinth' },
  env: { LANG: 'C.UTF-8' },
  entrypoint: [],
  cmd: ['/bin/sh'],
  workdir: '/tmp',
  inputs: [],
};
