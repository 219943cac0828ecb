import { describe, expect, it } from 'vitest';
import { checkResources, violations } from '../../policies/check.js';
import { createContext } from '../../policies/context.js';
import { fromManifest } from '../../policies/resource.js';
import { FLOOR_RULE_IDS, podSecurityRules } from '../../policies/rules/pod-security.js';
import { SECURITY_FLOOR, securityContextWith, type FloorField } from '../../model/security-floor.js';
import { belowFloor } from '../support/below-floor.js';
import { find, objectsOf } from '../support/platform.js';

const POD = 'spec.template.spec';
const MAIN = `${POD}.containers[0]`;
const local = objectsOf('local');
const platformController = find(local, 'Deployment', 'controller', 'plinth');
/** Its PodDisruptionBudget, without which a rule of availability would flag it. */
const budget = find(local, 'PodDisruptionBudget', 'controller', 'plinth');
/** The fields a manifest is held to: all but those whose floor is the workload's own. */
const checked = SECURITY_FLOOR.filter((f) => f.concern !== undefined);

/** The platform's controller Deployment with its pod spec changed, checked by every rule. */
function findingsOf(mutate: (pod: any) => void) {
  const deployment = structuredClone(platformController) as any;
  mutate(deployment.spec.template.spec);
  return violations(
    checkResources(
      createContext(
        [deployment, budget].map((o) => fromManifest(o)),
        { production: false },
      ),
    ),
  );
}

/** Sets the field below the floor in a securityContext, keeping what else it holds. */
function below(context: Record<string, unknown> | undefined, field: FloorField): Record<string, unknown> {
  const value = securityContextWith([[field, belowFloor(field.requirement)]]);
  const [key] = field.path.split('.') as [string];
  const inner = value[key];
  const merged = { ...context };
  merged[key] = typeof inner === 'object' && !Array.isArray(inner) ? { ...(merged[key] as object), ...inner } : inner;
  return merged;
}

describe('the policies on the security floor', () => {
  it('have one rule per concern of the floor', () => {
    const concerns = new Set(checked.map((f) => f.concern));
    expect(Object.keys(FLOOR_RULE_IDS).sort()).toEqual([...concerns].sort());
    for (const id of Object.values(FLOOR_RULE_IDS)) expect(podSecurityRules.map((r) => r.id)).toContain(id);
  });

  it('pass the platform as synthesized', () => {
    expect(findingsOf(() => undefined)).toEqual([]);
  });

  it.each(checked.filter((f) => f.levels.includes('container')).map((f) => [f.path, f] as const))(
    "flag a container's %s below the floor, naming the field, under its concern's rule",
    (path, field) => {
      const found = findingsOf(
        (pod) => (pod.containers[0].securityContext = below(pod.containers[0].securityContext, field)),
      );
      expect(found.map((r) => [r.rule.id, r.finding.field])).toEqual([
        [FLOOR_RULE_IDS[field.concern!], `${MAIN}.securityContext.${path}`],
      ]);
    },
  );

  it.each(checked.filter((f) => f.levels.includes('pod')).map((f) => [f.path, f] as const))(
    "flag a pod's %s below the floor, naming the field, under its concern's rule",
    (path, field) => {
      const found = findingsOf((pod) => (pod.securityContext = below(pod.securityContext, field)));
      expect(found.map((r) => [r.rule.id, r.finding.field])).toContainEqual([
        FLOOR_RULE_IDS[field.concern!],
        `${POD}.securityContext.${path}`,
      ]);
    },
  );

  it.each(checked.filter((f) => f.mustBeSet).map((f) => [f.path, f] as const))(
    'flag a container with %s set nowhere, which Kubernetes would leave below the floor',
    (path, field) => {
      const keys = path.split('.');
      const leaf = keys.pop()!;
      const found = findingsOf((pod) => {
        for (const context of [pod.securityContext, pod.containers[0].securityContext]) {
          const parent = keys.reduce((node, key) => node?.[key], context);
          if (parent) Reflect.deleteProperty(parent, leaf);
        }
      });
      expect(found.map((r) => [r.rule.id, r.finding.field])).toEqual([
        [FLOOR_RULE_IDS[field.concern!], `${MAIN}.securityContext.${path}`],
      ]);
      expect(found[0]!.finding.message).toMatch(/^container controller does not set /);
    },
  );

  it("read a container's field over the pod's, as Kubernetes does", () => {
    const overridden = findingsOf((pod) => {
      pod.securityContext.runAsNonRoot = true;
      pod.containers[0].securityContext.runAsNonRoot = false;
    });
    expect(overridden.map((r) => r.finding.field)).toEqual([`${MAIN}.securityContext.runAsNonRoot`]);
    const fromPod = findingsOf((pod) => delete pod.containers[0].securityContext.seccompProfile);
    expect(fromPod).toEqual([]);
  });

  it('say what the floor allows in their messages and remediations', () => {
    const [found] = findingsOf((pod) => (pod.containers[0].securityContext.runAsUser = 0));
    expect(found?.finding.message).toBe("container controller's runAsUser is 0, and must be a uid of 1 or more");
    const root = podSecurityRules.find((r) => r.id === FLOOR_RULE_IDS.root)!;
    expect(root.remediation).toContain('runAsNonRoot: true');
    expect(root.remediation).toContain('runAsUser: a uid of 1 or more');
  });
});
