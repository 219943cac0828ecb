import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * The platform's init steps: fetching sources with git over HTTPS. The S3 client for the
 * artifact store (and the store's admin steps) come with the local store, versitygw.
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
