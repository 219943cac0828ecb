import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { KubeConfig } from '@kubernetes/client-node';
import { objectStoreVolume } from '../support/object-store-volume.js';
import { sharedPlatformObjects } from '../support/platform.js';
import { applyPlatform } from '../../local-cluster/apply-platform.js';
import { killClusterSync, startCluster, stopCluster } from '../../local-cluster/control-plane.js';
import { nodeModeFrom, realNodeOptions } from '../../local-cluster/real-node-options.js';
import { applyOrThrow } from '../../local-cluster/server-side-apply.js';
import { writeFreshStoreSecrets } from '../../local-cluster/store-secrets.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../../stacks/environments/index.js';

/**
 * One control plane per test run, with real nodes beside the kwok ones (PLINTH_NODES=simulated
 * for kwok only, where the suites of real execution fail and say why), the upstream CRDs installed
 * and the `local` platform applied. Torn down after the run, whether the tests passed or not.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'plinth-test-cluster-'));
  let state;
  try {
    const log = (line: string) => console.log(line);
    state = await startCluster({
      dir,
      jobDurationMs: 1000,
      log,
      realNodes: nodeModeFrom([]) === 'real' ? await realNodeOptions() : undefined,
    });
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const started = Date.now();
    const config = validatePlatformConfig('local', environments['local']);
    // The store's keys first, fresh for this cluster: the platform's pods start from them.
    await writeFreshStoreSecrets(kc, config);
    // Real nodes have local volumes; kwok-only, the store's claim gets a folder of its own.
    if (state.realNodes.length === 0) {
      await applyOrThrow(kc, objectStoreVolume(config, join(dir, 'object-store')) as never[]);
    }
    await applyPlatform(kc, sharedPlatformObjects());
    console.log(`[cluster] platform applied, team quotas counted, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    await stopCluster(dir);
    throw error;
  }
  project.provide('cluster', state);
  const onExit = () => killClusterSync(dir);
  process.once('exit', onExit);
  return async () => {
    process.off('exit', onExit);
    await stopCluster(dir);
  };
}
