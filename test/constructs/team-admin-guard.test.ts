import { describe, expect, it } from 'vitest';
import type { V1ValidatingAdmissionPolicyBindingSpec, V1ValidatingAdmissionPolicySpec } from '@kubernetes/client-node';
import { LEGACY_TOKEN_SECRET_TYPE, OPEN_SUBJECTS } from '../../constructs/team-admin-guard.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { TEAM_ADMIN_GUARDS } from '../../model/names.js';
import { selects } from '../../policies/label-selector.js';
import { ENVIRONMENTS, find, objectsOf, ofKind } from '../support/platform.js';

const specOf = <T>(o: unknown) => (o as { spec: T }).spec;

describe.each(ENVIRONMENTS)('the guards against team admins in %s', (env) => {
  const objects = objectsOf(env);
  const policy = (name: string) =>
    specOf<V1ValidatingAdmissionPolicySpec>(find(objects, 'ValidatingAdmissionPolicy', name));
  const binding = (name: string) =>
    specOf<V1ValidatingAdmissionPolicyBindingSpec>(find(objects, 'ValidatingAdmissionPolicyBinding', name));
  const namespaces = ofKind(objects, 'Namespace');
  const teams = namespaces.filter((n) => n.metadata.labels?.[PLINTH_LABELS.team]);

  it.each(Object.values(TEAM_ADMIN_GUARDS))(
    '%s: refuses, fails closed and binds to every team namespace only',
    (name) => {
      expect(find(objects, 'ValidatingAdmissionPolicy', name).apiVersion).toBe('admissionregistration.k8s.io/v1');
      expect(policy(name).failurePolicy).toBe('Fail');
      expect(binding(name)).toMatchObject({ policyName: name, validationActions: ['Deny'] });
      const selector = binding(name).matchResources?.namespaceSelector;
      expect(teams.length).toBeGreaterThan(0);
      for (const ns of namespaces) {
        expect(selects(selector, ns.metadata.labels ?? {}), ns.metadata.name).toBe(teams.includes(ns));
      }
    },
  );

  it('checks every RoleBinding created or changed, against every open subject', () => {
    const spec = policy(TEAM_ADMIN_GUARDS.bindingSubjects);
    expect(spec.matchConstraints?.resourceRules).toEqual([
      expect.objectContaining({ resources: ['rolebindings'], operations: ['CREATE', 'UPDATE'] }),
    ]);
    const cel = JSON.stringify(spec.variables);
    for (const subject of OPEN_SUBJECTS) expect(cel).toContain(`${subject.kind}/${subject.name}`);
    expect(cel).toContain('system:serviceaccounts:');
  });

  it('checks every Secret created for the legacy token type', () => {
    const spec = policy(TEAM_ADMIN_GUARDS.accountTokens);
    expect(spec.matchConstraints?.resourceRules).toEqual([
      expect.objectContaining({ apiGroups: [''], resources: ['secrets'], operations: ['CREATE'] }),
    ]);
    expect(spec.validations?.[0]?.expression).toContain(LEGACY_TOKEN_SECRET_TYPE);
  });

  it('ships in the RBAC chart, applied before the team namespaces', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    const firstTeam = Math.min(...teams.map((t) => names.indexOf(`Namespace/${t.metadata.name}`)));
    for (const name of Object.values(TEAM_ADMIN_GUARDS)) {
      expect(names.indexOf(`ValidatingAdmissionPolicyBinding/${name}`)).toBeLessThan(firstTeam);
    }
  });
});
