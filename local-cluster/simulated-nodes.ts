import type { V1Node } from '@kubernetes/client-node';
import { GPU_RESOURCE, nodeLabels } from '../model/pools.js';
import type { PlatformConfig } from '../model/config/schema.js';

/** kwok manages only nodes carrying this annotation, so it never touches anything else. */
export const KWOK_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

/**
 * Simulated nodes in the shape of an environment's pools: labelled and tainted exactly as the
 * platform config says, with GPU capacity on GPU pools.
 */
export function simulatedNodes(config: PlatformConfig, perPool = 2): V1Node[] {
  return Object.entries(config.nodePools).flatMap(([pool, spec]) =>
    Array.from({ length: perPool }, (_, i): V1Node => {
      const name = `${pool}-${i}`;
      const capacity: Record<string, string> = {
        cpu: '32',
        memory: '128Gi',
        pods: '250',
        'ephemeral-storage': '500Gi',
      };
      if (spec.role === 'gpu') capacity[GPU_RESOURCE] = String(spec.gpusPerNode);
      return {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value },
          labels: {
            ...nodeLabels(pool, spec),
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            type: 'kwok',
          },
        },
        spec: { taints: spec.taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect })) },
        status: { capacity, allocatable: capacity },
      };
    }),
  );
}
