/**
 * `npm run bench:deploy`: the `local` stack with the real Pulumi engine, language host and
 * Kubernetes provider against a control plane of its own. Times `pulumi preview` on an empty
 * stack, `pulumi up`, a `pulumi preview` with nothing to change, and `pulumi destroy`, and prints
 * the number of resources. Timings are printed, never asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killClusterSync, startCluster, stopCluster } from '../../local-cluster/control-plane.js';
import { KubeConfig } from '@kubernetes/client-node';
import { applyOrThrow } from '../../local-cluster/server-side-apply.js';
import { objectStoreVolume } from '../support/object-store-volume.js';
import { configOf } from '../support/platform.js';
import { PulumiCli } from '../support/pulumi-cli.js';

const log = (line: string) => console.error(`[bench] ${line}`);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-deploy-'));
  const clusterDir = join(dir, 'cluster');
  process.once('exit', () => killClusterSync(clusterDir));
  try {
    const cluster = await startCluster({ dir: clusterDir, log });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    await applyOrThrow(kc, objectStoreVolume(configOf('local'), join(dir, 'object-store')) as never[]);
    const pulumi = await PulumiCli.create('local', join(dir, 'pulumi'), cluster.kubeconfig);
    // The root keys of the platform's own store, from which the platform's and the teams' derive.
    await pulumi.configSet('plinth:artifactStoreAdmin.accessKeyId', 'BENCHROOT', true);
    await pulumi.configSet('plinth:artifactStoreAdmin.secretAccessKey', 'bench-root-secret-key', true);

    log('pulumi preview (empty stack)');
    const first = await pulumi.ok(['preview', '--json']);
    const planned = (JSON.parse(first.stdout) as { changeSummary: Record<string, number> }).changeSummary;
    log('pulumi up');
    const up = await pulumi.ok(['up', '--yes', '--skip-preview']);
    log('pulumi preview (no changes)');
    const again = await pulumi.ok(['preview', '--expect-no-changes']);
    const state = JSON.parse((await pulumi.ok(['stack', 'export'])).stdout) as {
      deployment: { resources: { type: string }[] };
    };
    const resources = state.deployment.resources;
    const objects = resources.filter((r) => r.type.startsWith('kubernetes:') && !r.type.startsWith('pulumi:')).length;
    log('pulumi destroy');
    const destroy = await pulumi.ok(['destroy', '--yes', '--skip-preview']);

    console.log(
      `resources in the local stack: ${resources.length} (Kubernetes objects: ${objects}; planned creates: ${planned['create']})`,
    );
    console.log(`pulumi preview, empty stack:  ${first.seconds.toFixed(1)} s`);
    console.log(`pulumi up:                    ${up.seconds.toFixed(1)} s`);
    console.log(`pulumi preview, no changes:   ${again.seconds.toFixed(1)} s`);
    console.log(`pulumi destroy:               ${destroy.seconds.toFixed(1)} s`);
  } finally {
    await stopCluster(clusterDir);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
