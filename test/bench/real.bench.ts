/**
 * `npm run bench:real`: the local cluster with real nodes, measured as a user meets it.
 * - the images: how long `npm run images` takes when they are cached (their first builds are
 *   printed by `npm run images` itself);
 * - `up` to Ready with cached images, against the target of 60 s;
 * - for 50 job runs on the real `cpu` node, in waves of 10 (the team's concurrency allows 20)
 *   after one unmeasured run, the time from creating the Run to seeing its container running,
 *   p50 and p99.
 * The controller runs as `npm run controller` does, on the host.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { RUN_API_VERSION, RUN_GROUP, RUN_KIND, RUN_PLURAL, RUN_VERSION } from '../../controller/api/run.js';
import { imageReference, LOCAL_REGISTRY } from '../../images/reference.js';
import { applyPlatform } from '../../local-cluster/apply-platform.js';
import { startCluster, stopCluster } from '../../local-cluster/control-plane.js';
import { realNodeOptions } from '../../local-cluster/real-node-options.js';
import { writeFreshStoreSecrets } from '../../local-cluster/store-secrets.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../../stacks/environments/index.js';
import { sharedPlatformObjects } from '../support/platform.js';
import { controllerArgs } from '../support/controller.js';
import { percentile } from '../support/process-figures.js';

const TARGET = { readySeconds: 60 };
const RUNS = 50;
const WAVE = 10;
const NS = 'plinth-vision';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-real-'));
let controller: ReturnType<typeof spawn> | undefined;
try {
  const imagesStarted = performance.now();
  const realNodes = await realNodeOptions();
  console.log(`images (cached) and node binaries ready in ${seconds(performance.now() - imagesStarted)}`);

  const state = await startCluster({ dir, realNodes, log: () => undefined });
  const met = state.readyMs / 1000 < TARGET.readySeconds ? 'met' : 'NOT met';
  console.log(`up to Ready: ${seconds(state.readyMs)}; target < ${TARGET.readySeconds} s: ${met}`);

  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  const config = validatePlatformConfig('local', environments['local']);
  await writeFreshStoreSecrets(kc, config);
  await applyPlatform(kc, sharedPlatformObjects());

  // This machine resolves no Service name: the runs get no MLflow run, as before tracking, so figures compare.
  controller = spawn(process.execPath, controllerArgs(['--identity=bench-real', '--no-tracking', '--no-logs-api']), {
    env: { ...process.env, KUBECONFIG: state.kubeconfig, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const runs = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const image = imageReference('python', LOCAL_REGISTRY);
  const latencies: number[] = [];
  // Wave 0 is a warm-up, not measured: it includes the controller's start and the first reads of
  // the image from disk.
  for (let wave = -1; wave < RUNS / WAVE; wave++) {
    const created = new Map<string, number>();
    for (let i = 0; i < (wave < 0 ? 1 : WAVE); i++) {
      const name = `real-${wave + 1}-${i}`;
      created.set(name, performance.now());
      await runs.createNamespacedCustomObject({
        group: RUN_GROUP,
        version: RUN_VERSION,
        plural: RUN_PLURAL,
        namespace: NS,
        body: {
          apiVersion: RUN_API_VERSION,
          kind: RUN_KIND,
          metadata: { name },
          spec: {
            kind: 'job',
            pool: 'cpu',
            job: { container: { image, command: ['python3', '-c', 'import time; time.sleep(20)'] } },
          },
        },
      });
    }
    const deadline = Date.now() + 180_000;
    while (created.size > 0 && Date.now() < deadline) {
      const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: PLINTH_LABELS.run });
      for (const pod of pods.items) {
        const run = pod.metadata?.labels?.[PLINTH_LABELS.run] ?? '';
        const started = created.get(run);
        if (started !== undefined && pod.status?.containerStatuses?.some((c) => c.state?.running)) {
          if (wave >= 0) latencies.push(performance.now() - started);
          created.delete(run);
        }
      }
      await sleep(100);
    }
    if (created.size > 0) throw new Error(`runs never running within 180 s: ${[...created.keys()].join(', ')}`);
    for (let i = 0; i < (wave < 0 ? 1 : WAVE); i++) {
      await runs.deleteNamespacedCustomObject({
        group: RUN_GROUP,
        version: RUN_VERSION,
        plural: RUN_PLURAL,
        namespace: NS,
        name: `real-${wave + 1}-${i}`,
      });
    }
    // Each wave starts on an idle node. Python as a container's pid 1 ignores SIGTERM, so its pods
    // take the whole grace period to go.
    while ((await core.listNamespacedPod({ namespace: NS, labelSelector: PLINTH_LABELS.run })).items.length > 0) {
      await sleep(500);
    }
  }
  console.log(
    `run created to container running on the real cpu node, ${latencies.length} runs in waves of ${WAVE}: ` +
      `p50 ${seconds(percentile(latencies, 50))}, p99 ${seconds(percentile(latencies, 99))}`,
  );
} finally {
  controller?.kill('SIGTERM');
  await stopCluster(dir);
}
