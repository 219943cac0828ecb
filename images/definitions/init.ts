import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * The platform's init steps: fetching sources with git over HTTPS, and the artifact store's admin
 * steps: versitygw's own admin client for its users, and boto3 for buckets and their policies.
 */
export const init: ImageDefinition = {
  name: 'init',
  base: { kind: 'debian', packages: ['ca-certificates', 'git', 'python3-boto3'] },
  steps: [{ kind: 'toolchain-binary', binary: 'versitygw', to: '/usr/local/bin/versitygw' }],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID, account: 'plinth' },
  env: { LANG: 'C.UTF-8' },
  entrypoint: [],
  cmd: ['/bin/sh'],
  workdir: '/tmp',
  inputs: [],
};
