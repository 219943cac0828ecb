import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, find, inputOf, objectsOf, ofKind, podSpecs, renderInput } from '../support/platform.js';

type Deployment = {
  metadata: { name: string; namespace: string };
  spec: { replicas: number; selector: { matchLabels: unknown } };
};

describe.each(ENVIRONMENTS)('availability in %s', (env) => {
  const objects = objectsOf(env);

  it('gives every multi-replica Deployment a PodDisruptionBudget over the same pods', () => {
    const deployments = ofKind(objects, 'Deployment') as unknown as Deployment[];
    const replicated = deployments.filter((d) => d.spec.replicas > 1);
    expect(replicated.length).toBeGreaterThan(0);
    for (const d of replicated) {
      const pdb = find(objects, 'PodDisruptionBudget', d.metadata.name, d.metadata.namespace) as unknown as {
        spec: { minAvailable: number; selector: { matchLabels: unknown } };
      };
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      expect(pdb.spec.minAvailable).toBe(1);
    }
  });

  it("gives every service's container probes, and every container requests and limits", () => {
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of spec.containers) {
        // A Job's container (a CronJob's too) runs to its end: nothing to probe.
        if (owner.kind !== 'Job' && owner.kind !== 'CronJob') {
          expect(c.livenessProbe, owner.metadata.name).toBeDefined();
          expect(c.readinessProbe, owner.metadata.name).toBeDefined();
        }
        expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      }
    }
  });
});

describe('single-replica services', () => {
  it('get no PodDisruptionBudget and no required anti-affinity', () => {
    const input = inputOf('local');
    input.tracking = { replicas: 1 };
    const objects = renderInput(input);
    expect(ofKind(objects, 'PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(['controller']);
    const tracking = podSpecs(objects).find((p) => p.owner.metadata.name === 'tracking')!;
    expect(tracking.spec.affinity).toBeUndefined();
  });
});
