import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults } from '../../controller/api/platform-defaults.js';
import { GPU_RESOURCE } from '../../model/pools.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { apiMessage } from '../../local-cluster/server-side-apply.js';

const NAMESPACE = 'plinth-nlp'; // GPU quota 8 in the local environment
const core = () => kubeConfigAs('admin').makeApiClient(CoreV1Api);
let defaults: PlatformDefaults;

function gpuPod(name: string, gpus: number): V1Pod {
  const gpu = defaults.pools['gpu'];
  return {
    metadata: { name, namespace: NAMESPACE },
    spec: {
      nodeSelector: gpu?.nodeSelector,
      tolerations: gpu?.tolerations,
      securityContext: defaults.podSecurityContext,
      automountServiceAccountToken: false,
      serviceAccountName: defaults.runServiceAccount,
      containers: [
        {
          name: 'main',
          image: 'ghcr.io/plinth-dev/train:1.0.0',
          resources: { requests: { [GPU_RESOURCE]: String(gpus) }, limits: { [GPU_RESOURCE]: String(gpus) } },
          securityContext: defaults.containerSecurityContext,
        },
      ],
    },
  };
}

async function rejection(pod: V1Pod): Promise<string | undefined> {
  return core()
    .createNamespacedPod({ namespace: NAMESPACE, body: pod })
    .then(
      () => undefined,
      (e: unknown) => apiMessage(e),
    );
}

describe('team quotas', () => {
  beforeAll(async () => {
    const map = await core().readNamespacedConfigMap({ name: 'plinth-controller', namespace: 'plinth' });
    defaults = JSON.parse(map.data?.[PLATFORM_DEFAULTS_KEY] ?? '{}') as PlatformDefaults;
  });
  afterEach(async () => {
    await core().deleteCollectionNamespacedPod({ namespace: NAMESPACE, gracePeriodSeconds: 0 });
  });

  it('rejects a pod that asks for more GPUs than the team has', async () => {
    expect(await rejection(gpuPod('too-many', 9))).toMatch(
      /exceeded quota: team-quota, requested: requests\.nvidia\.com\/gpu=9, used: requests\.nvidia\.com\/gpu=0, limited: requests\.nvidia\.com\/gpu=8/,
    );
  });

  it('rejects the pod that would take the team past its GPU quota', async () => {
    expect(await rejection(gpuPod('first', 6))).toBeUndefined();
    expect(await rejection(gpuPod('second', 6))).toMatch(
      /exceeded quota: team-quota.*used: requests\.nvidia\.com\/gpu=6/,
    );
    expect(await rejection(gpuPod('fits', 2))).toBeUndefined();
  });
});
