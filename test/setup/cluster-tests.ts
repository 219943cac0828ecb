import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { KubeConfig } from '@kubernetes/client-node';
import { objectsOf } from '../support/platform.js';
import { applyPlatform } from '../../local-cluster/apply-platform.js';
import { killClusterSync, startCluster, stopCluster } from '../../local-cluster/control-plane.js';

/**
 * One control plane per test run, with the upstream CRDs installed and the `local` platform
 * applied. Torn down after the run, whether the tests passed or not.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'plinth-test-cluster-'));
  let state;
  try {
    state = await startCluster({ dir, jobDurationMs: 1000 });
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const started = Date.now();
    await applyPlatform(kc, objectsOf('local'));
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
