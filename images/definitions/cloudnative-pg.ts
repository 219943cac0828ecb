import { PLATFORM_ID } from '../../model/config/schema.js';
import { ociArchitecture } from '../architecture.js';
import type { ImageDefinition } from '../definition.js';

/**
 * CloudNativePG's operator: its manager, alone in an empty root at /manager, and again as
 * operator/manager_<architecture>: the operator lists those copies, relative to its working
 * directory (/), to learn which architectures its instance manager exists for, and refuses to run
 * Postgres on any other.
 */
export const cloudnativePg: ImageDefinition = {
  name: 'cloudnative-pg',
  base: { kind: 'scratch' },
  steps: [
    { kind: 'toolchain-binary', binary: 'cnpg-manager', to: '/manager' },
    { kind: 'toolchain-binary', binary: 'cnpg-manager', to: `/operator/manager_${ociArchitecture()}` },
  ],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID },
  env: {},
  entrypoint: ['/manager'],
  cmd: [],
  workdir: '/',
  inputs: [],
};
