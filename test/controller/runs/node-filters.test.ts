import { describe, expect, it } from 'vitest';
import type { V1Node, V1NodeSelectorTerm, V1Pod } from '@kubernetes/client-node';
import { meetsRequiredNodeAffinity, untoleratedTaints } from '../../../controller/runs/node-filters.js';

const node: V1Node = {
  metadata: { name: 'gpu-0', labels: { 'plinth.dev/pool': 'gpu', 'example.com/gpus': '8' } },
  spec: {
    taints: [
      { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' },
      { key: 'example.com/spot', effect: 'PreferNoSchedule' },
    ],
  },
};
const requiring = (...nodeSelectorTerms: V1NodeSelectorTerm[]): V1Pod => ({
  spec: {
    containers: [],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } },
  },
});

describe('meetsRequiredNodeAffinity', () => {
  it.each([
    [{ matchExpressions: [{ key: 'plinth.dev/pool', operator: 'In', values: ['gpu'] }] }, true],
    [{ matchExpressions: [{ key: 'plinth.dev/pool', operator: 'NotIn', values: ['gpu'] }] }, false],
    [{ matchExpressions: [{ key: 'example.com/zone', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'example.com/zone', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'example.com/zone', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'example.com/gpus', operator: 'Gt', values: ['4'] }] }, true],
    [{ matchExpressions: [{ key: 'example.com/gpus', operator: 'Lt', values: ['4'] }] }, false],
    [{ matchExpressions: [{ key: 'plinth.dev/pool', operator: 'Gt', values: ['4'] }] }, false],
    [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-0'] }] }, true],
    [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-1'] }] }, false],
    [{}, false],
  ] as [V1NodeSelectorTerm, boolean][])('reads %j as the scheduler does: %s', (term, meets) => {
    expect(meetsRequiredNodeAffinity(requiring(term), node)).toBe(meets);
  });

  it('needs every requirement of a term and any one term', () => {
    const pool = { key: 'plinth.dev/pool', operator: 'In', values: ['gpu'] };
    const zone = { key: 'example.com/zone', operator: 'Exists' };
    expect(meetsRequiredNodeAffinity(requiring({ matchExpressions: [pool, zone] }), node)).toBe(false);
    expect(meetsRequiredNodeAffinity(requiring({ matchExpressions: [zone] }, { matchExpressions: [pool] }), node)).toBe(
      true,
    );
  });

  it('lets a pod without required node affinity go anywhere, and one with no terms nowhere', () => {
    expect(meetsRequiredNodeAffinity({ spec: { containers: [] } }, node)).toBe(true);
    expect(meetsRequiredNodeAffinity(requiring(), node)).toBe(false);
  });
});

describe('untoleratedTaints', () => {
  it('names the taints that refuse the pod, never one that only steers it', () => {
    expect(untoleratedTaints({ spec: { containers: [] } }, node)).toEqual([
      { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' },
    ]);
  });

  it.each([
    [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, 0],
    [{ key: 'nvidia.com/gpu', value: 'present' }, 0],
    [{ key: 'nvidia.com/gpu', value: 'absent' }, 1],
    [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }, 1],
    [{ operator: 'Exists' }, 0],
  ])('with the toleration %j leaves %d', (toleration, left) => {
    expect(untoleratedTaints({ spec: { containers: [], tolerations: [toleration] } }, node)).toHaveLength(left);
  });
});
