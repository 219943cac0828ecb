import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults } from '../../controller/api/platform-defaults.js';
import { GPU_RESOURCE, GPU_TAINT } from '../../model/pools.js';
import { podSecurityLabels } from '../../model/labels.js';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';

const NAMESPACE = 'test-scheduling';
const core = () => kubeConfigAs('admin').makeApiClient(CoreV1Api);
let defaults: PlatformDefaults;

/** A pod as the platform runs one on `pool`: its placement and the security floor from the controller's defaults. */
function runPod(name: string, pool: string, gpus = 0, options: { dropGpuToleration?: boolean } = {}): V1Pod {
  const placement = defaults.pools[pool];
  if (!placement) throw new Error(`no pool ${pool}`);
  const resources = { cpu: '100m', memory: '128Mi', ...(gpus > 0 ? { [GPU_RESOURCE]: String(gpus) } : {}) };
  return {
    metadata: { name, namespace: NAMESPACE },
    spec: {
      nodeSelector: placement.nodeSelector,
      tolerations: placement.tolerations.filter((t) => !(options.dropGpuToleration && t.key === GPU_TAINT.key)),
      securityContext: defaults.podSecurityContext,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'main',
          image: 'ghcr.io/plinth-dev/train:1.0.0',
          resources: { requests: resources, limits: resources },
          securityContext: defaults.containerSecurityContext,
        },
      ],
    },
  };
}

async function scheduledNode(name: string): Promise<string> {
  return eventually(`${name} to be scheduled`, async () => {
    const pod = await core().readNamespacedPod({ name, namespace: NAMESPACE });
    return pod.spec?.nodeName || undefined;
  });
}

async function unschedulableMessage(name: string): Promise<string> {
  return eventually(`the scheduler's verdict on ${name}`, async () => {
    const pod = await core().readNamespacedPod({ name, namespace: NAMESPACE });
    const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable');
    expect(pod.spec?.nodeName).toBeUndefined();
    return condition?.message;
  });
}

describe('scheduling as the platform intends it', () => {
  beforeAll(async () => {
    const map = await core().readNamespacedConfigMap({ name: 'plinth-controller', namespace: 'plinth' });
    defaults = JSON.parse(map.data?.[PLATFORM_DEFAULTS_KEY] ?? '{}') as PlatformDefaults;
    await core().createNamespace({ body: { metadata: { name: NAMESPACE, labels: podSecurityLabels('restricted') } } });
    await eventually('the namespace default ServiceAccount', () =>
      core().readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }),
    );
  });
  afterAll(async () => {
    await core().deleteNamespace({ name: NAMESPACE });
  });

  it('puts a GPU-pool workload on a GPU node', async () => {
    await core().createNamespacedPod({ namespace: NAMESPACE, body: runPod('gpu-run', 'gpu', 1) });
    expect(await scheduledNode('gpu-run')).toMatch(/^gpu-\d$/);
  });

  it('leaves the same pod without the GPU toleration Pending on the untolerated taint', async () => {
    await core().createNamespacedPod({
      namespace: NAMESPACE,
      body: runPod('gpu-untolerated', 'gpu', 1, { dropGpuToleration: true }),
    });
    // Only GPU nodes match the selector, and the scheduler turns them down for their taint.
    expect(await unschedulableMessage('gpu-untolerated')).toMatch(/\d node\(s\) had untolerated taint/);
  });

  it('never puts a CPU workload on a GPU node (on the simulated CPU pool: placement is what is tested)', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `cpu-run-${i}`);
    for (const name of names) {
      await core().createNamespacedPod({ namespace: NAMESPACE, body: runPod(name, SIMULATED_CPU_POOL) });
    }
    for (const name of names) expect(await scheduledNode(name)).toMatch(/^sim-\d$/);
  });

  it('leaves a pod asking for more GPUs than any node has Pending with Insufficient nvidia.com/gpu', async () => {
    await core().createNamespacedPod({ namespace: NAMESPACE, body: runPod('gpu-too-many', 'gpu', 9) });
    expect(await unschedulableMessage('gpu-too-many')).toContain(`Insufficient ${GPU_RESOURCE}`);
  });

  it('runs every core service pod on a core node', async () => {
    const pods = await core().listNamespacedPod({ namespace: 'plinth' });
    expect(pods.items.length).toBeGreaterThanOrEqual(4);
    for (const pod of pods.items) expect(pod.spec?.nodeName, pod.metadata?.name).toMatch(/^core-\d$/);
  });
});
