import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { KubeConfig } from '@kubernetes/client-node';
import { objectsOf } from '../support/platform.js';
import { crdsIn } from '../../stacks/deploy/crd-files.js';
import { applyOrThrow, installCrds } from '../../local-cluster/server-side-apply.js';
import { waitForQuotasCounted } from '../../local-cluster/quota-readiness.js';
import { PLINTH_LABELS } from '../../model/labels.js';
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
    await installCrds(kc, crdsIn());
    const objects = objectsOf('local');
    await applyOrThrow(
      kc,
      objects.filter((o) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition'),
    );
    await applyOrThrow(kc, objects);
    const started = Date.now();
    const teamNamespaces = objects
      .filter(
        (o) =>
          o.kind === 'Namespace' && (o.metadata as { labels?: Record<string, string> }).labels?.[PLINTH_LABELS.team],
      )
      .map((o) => String((o.metadata as { name: string }).name));
    await waitForQuotasCounted(kc, teamNamespaces);
    console.log(`[cluster] team quotas counted after ${((Date.now() - started) / 1000).toFixed(1)} s`);
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
