import { describe, expect, it } from 'vitest';
import { GPU_TAINT, POOL_LABEL, nodeLabels } from '../../model/pools.js';
import { ENVIRONMENTS, configOf, objectsOf, podSpecs, runDefaultsOf } from '../support/platform.js';

const isGpuToleration = (t: { key?: string }) => t.key === GPU_TAINT.key;

describe.each(ENVIRONMENTS)('scheduling in %s', (env) => {
  const objects = objectsOf(env);
  const config = configOf(env);
  const corePool = Object.entries(config.nodePools).find(([, p]) => p.role === 'core')!;
  const defaults = runDefaultsOf(env, objects);

  it('puts every core service on the core pool, tolerating its taint and never the GPU taint', () => {
    for (const { owner, spec } of podSpecs(objects)) {
      expect(spec.nodeSelector, owner.metadata.name).toEqual({ [POOL_LABEL]: corePool[0] });
      expect(spec.tolerations?.some(isGpuToleration), owner.metadata.name).toBe(false);
      for (const taint of corePool[1].taints) {
        expect(spec.tolerations).toContainEqual({
          key: taint.key,
          operator: 'Equal',
          value: taint.value,
          effect: taint.effect,
        });
      }
    }
  });

  it('spreads replicated core services across nodes', () => {
    const replicated = podSpecs(objects).filter(
      ({ owner }) => ((owner['spec'] as { replicas?: number }).replicas ?? 1) > 1,
    );
    expect(replicated.length).toBeGreaterThan(0);
    for (const { owner, spec } of replicated) {
      const term = (spec.affinity as { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: unknown[] } })
        .podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
      expect(term, owner.metadata.name).toMatchObject({
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': owner.metadata.name } },
      });
    }
  });

  it('gives runs on GPU pools the GPU toleration, and runs on CPU pools none', () => {
    const gpuPools = Object.entries(config.nodePools).filter(([, p]) => p.role === 'gpu');
    expect(gpuPools.length).toBeGreaterThan(0);
    for (const [name] of gpuPools) {
      expect(defaults.pools[name]?.tolerations).toContainEqual({ ...GPU_TAINT, operator: 'Equal' });
      expect(defaults.pools[name]?.nodeSelector).toEqual({ [POOL_LABEL]: name });
    }
    expect(defaults.pools['cpu']?.tolerations.some(isGpuToleration)).toBe(false);
    expect(defaults.pools[corePool[0]]).toBeUndefined();
  });

  it('labels GPU nodes with their accelerator and pool', () => {
    for (const [name, pool] of Object.entries(config.nodePools)) {
      const labels = nodeLabels(name, pool);
      expect(labels[POOL_LABEL]).toBe(name);
      if (pool.role === 'gpu') expect(labels['nvidia.com/gpu.product']).toBe(pool.accelerator);
    }
  });
});
