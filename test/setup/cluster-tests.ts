import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { KubeConfig } from '@kubernetes/client-node';
import { objectStoreVolume } from '../support/object-store-volume.js';
import { objectsOf } from '../support/platform.js';
import { applyPlatform } from '../../local-cluster/apply-platform.js';
import { killClusterSync, startCluster, stopCluster } from '../../local-cluster/control-plane.js';
import { nodeModeFrom, realNodeOptions } from '../../local-cluster/real-node-options.js';
import { applyOrThrow } from '../../local-cluster/server-side-apply.js';
import { teamStoreSecrets } from '../../local-cluster/team-store-secrets.js';
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
    // Before the claim, so that the store's pod is scheduled as soon as it is made.
    await applyOrThrow(kc, objectStoreVolume(config, join(dir, 'object-store')) as never[]);
    await applyPlatform(kc, objectsOf('local'));
    // The store admin's key of this cluster only: each team's store Secret is derived from it.
    await applyOrThrow(kc, teamStoreSecrets(config, randomBytes(24).toString('hex')) as never[]);
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
