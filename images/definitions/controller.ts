import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/** The Plinth controller: Node.js and the one-file bundle of the controller, on Debian's C and C++ runtime. */
export const controller: ImageDefinition = {
  name: 'controller',
  // minbase already holds what the Node.js binary links: libc6, libstdc++6, libgcc-s1.
  base: { kind: 'debian', packages: [] },
  steps: [
    { kind: 'node', to: '/usr/local/bin/node' },
    { kind: 'controller-bundle', to: '/app/controller.mjs' },
  ],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID, account: 'plinth' },
  env: { NODE_ENV: 'production' },
  entrypoint: ['/usr/local/bin/node', '/app/controller.mjs'],
  cmd: [],
  workdir: '/app',
  // What the bundle is made of: the controller, the model it imports, the locked packages (and
  // Node.js's version), and the compiler options esbuild reads.
  inputs: ['controller', 'model', 'package-lock.json', 'tsconfig.json'],
};
