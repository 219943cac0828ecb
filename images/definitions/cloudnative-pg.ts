import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * CloudNativePG's operator: its manager, alone in an empty root at /manager, where the operator
 * also finds itself when it copies the instance manager into each Postgres pod.
 */
export const cloudnativePg: ImageDefinition = {
  name: 'cloudnative-pg',
  base: { kind: 'scratch' },
  steps: [{ kind: 'toolchain-binary', binary: 'cnpg-manager', to: '/manager' }],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID },
  env: {},
  entrypoint: ['/manager'],
  cmd: [],
  workdir: '/',
  inputs: [],
};
