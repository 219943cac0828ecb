import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * The real nodes' cluster DNS: CoreDNS as the toolchain builds it (a static binary with only the
 * plugins a cluster DNS uses), alone in an empty root.
 */
export const coredns: ImageDefinition = {
  name: 'coredns',
  base: { kind: 'scratch' },
  steps: [{ kind: 'toolchain-binary', binary: 'coredns', to: '/coredns' }],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID },
  env: {},
  entrypoint: ['/coredns'],
  cmd: [],
  workdir: '/',
  inputs: [],
};
