import type { ImageDefinition } from '../definition.js';

/** The pod sandbox image that every real node's containerd starts first in each pod. */
export const pause: ImageDefinition = {
  name: 'pause',
  base: { kind: 'scratch' },
  steps: [{ kind: 'static-c', source: 'images/definitions/pause.c', to: '/pause' }],
  // 65535, as Kubernetes' own pause image: an id no account has, and not the platform's.
  user: { uid: 65535, gid: 65535 },
  env: {},
  entrypoint: ['/pause'],
  cmd: [],
  workdir: '/',
  inputs: [],
};
