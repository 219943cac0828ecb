import type { ClusterImages, RealNodeOptions } from './control-plane.js';
import { realNodeProblems } from './real-node-preflight.js';
import { ensureNodeToolchain } from './toolchain.js';
import { buildImages } from '../images/builder/build-image.js';
import { IMAGE_NAMES } from '../images/reference.js';

/** How to choose the nodes: real ones by default, every pool simulated with `--simulated`. */
export type NodeMode = 'real' | 'simulated';

export function nodeModeFrom(args: readonly string[], env = process.env): NodeMode {
  if (args.includes('--simulated')) return 'simulated';
  const mode = env['PLINTH_NODES'] ?? 'real';
  if (mode !== 'real' && mode !== 'simulated') {
    throw new Error(`PLINTH_NODES=${mode}: allowed are real (the default) and simulated`);
  }
  return mode;
}

/** Runs' images go to the nodes of run pools, the platform's to core nodes; the sandbox and init images to all. */
function nodesNeeding(image: string): 'core' | 'runs' | 'all' {
  if (image === 'pause' || image === 'init') return 'all';
  return image === 'python' ? 'runs' : 'core';
}

/**
 * What real nodes need, ready to use: the machine checked, the node binaries and every image
 * built (each from the cache when its inputs did not change).
 */
export async function realNodeOptions(): Promise<RealNodeOptions> {
  const problems = realNodeProblems();
  if (problems.length > 0) {
    throw new Error(
      `this machine cannot run real nodes:\n- ${problems.join('\n- ')}\n` +
        'install what is missing, or start every pool simulated: npm run cluster -- up --simulated',
    );
  }
  const binaries = ensureNodeToolchain();
  const built = await buildImages(IMAGE_NAMES);
  const reference = (name: string) => built.find((image) => image.name === name)?.reference ?? '';
  const images: ClusterImages = {
    pause: reference('pause'),
    dns: reference('coredns'),
    cloudNativePg: reference('cloudnative-pg'),
    archives: built.map(({ name, reference, archive }) => ({ reference, archive, nodes: nodesNeeding(name) })),
  };
  return { binaries, images };
}
