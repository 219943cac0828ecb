import { GPU_RESOURCE } from '../../model/pools.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { RUN_SERVICE_ACCOUNT, TEAM_ADMIN_GUARDS } from '../../model/names.js';
import type { V1MatchResources } from '@kubernetes/client-node';
import { selects } from '../label-selector.js';
import type { Finding, Rule } from '../rule.js';
import type { PolicyResource } from '../resource.js';

const isTeamNamespace = (r: PolicyResource) => r.kind === 'Namespace' && Boolean(r.labels[PLINTH_LABELS.team]);
const inNamespace = (all: readonly PolicyResource[], kind: string, namespace: string) =>
  all.filter((o) => o.kind === kind && o.namespace === namespace);

function deniesAll(policy: PolicyResource): boolean {
  const spec = (policy.body['spec'] ?? {}) as {
    podSelector?: Record<string, unknown>;
    policyTypes?: string[];
    ingress?: unknown[];
    egress?: unknown[];
  };
  const selectsAll = Object.keys(spec.podSelector ?? {}).every(
    (k) => Object.keys((spec.podSelector as Record<string, object>)[k] ?? {}).length === 0,
  );
  const types = spec.policyTypes ?? [];
  return (
    selectsAll && types.includes('Ingress') && types.includes('Egress') && !spec.ingress?.length && !spec.egress?.length
  );
}

const specOf = (r: PolicyResource) =>
  (r.body['spec'] ?? {}) as {
    failurePolicy?: string;
    matchConstraints?: V1MatchResources;
    policyName?: string;
    validationActions?: string[];
    matchResources?: V1MatchResources;
  };

/** What keeps the guard `name` from refusing requests in the team namespace `namespace`, if anything. */
function guardGaps(name: string, namespace: PolicyResource, all: readonly PolicyResource[]): Finding[] {
  // The API server labels every namespace with its name; a selector may rely on that label.
  const labels = { ...namespace.labels, 'kubernetes.io/metadata.name': namespace.name };
  const policy = all.find((o) => o.kind === 'ValidatingAdmissionPolicy' && o.name === name);
  if (!policy) return [{ field: 'metadata.name', message: `no ValidatingAdmissionPolicy ${name} guards it` }];
  const findings: Finding[] = [];
  if (specOf(policy).failurePolicy === 'Ignore') {
    findings.push({
      field: 'metadata.name',
      message: `ValidatingAdmissionPolicy ${name} has failurePolicy Ignore: a request it fails to evaluate goes through`,
    });
  }
  if (!selects(specOf(policy).matchConstraints?.namespaceSelector, labels)) {
    findings.push({
      field: 'metadata.labels',
      message: `the namespaceSelector of ValidatingAdmissionPolicy ${name}'s matchConstraints does not select it`,
    });
  }
  const bound = all.some((o) => {
    const spec = specOf(o);
    return (
      o.kind === 'ValidatingAdmissionPolicyBinding' &&
      spec.policyName === name &&
      (spec.validationActions ?? []).includes('Deny') &&
      selects(spec.matchResources?.namespaceSelector, labels)
    );
  });
  if (!bound) {
    findings.push({
      field: 'metadata.labels',
      message: `no ValidatingAdmissionPolicyBinding of ${name} with validationActions Deny selects it`,
    });
  }
  return findings;
}

export const isolationRules: Rule[] = [
  {
    id: 'team-namespace-isolation',
    severity: 'error',
    rationale: 'A team namespace without default-deny traffic, a GPU quota and Pod Security is not isolated.',
    remediation:
      'Give the namespace a default-deny NetworkPolicy, a ResourceQuota with requests.nvidia.com/gpu, and a pod-security.kubernetes.io/enforce label.',
    kinds: ['Namespace'],
    check(r, context) {
      if (!isTeamNamespace(r)) return [];
      const findings = [];
      if (!inNamespace(context.all, 'NetworkPolicy', r.name).some(deniesAll)) {
        findings.push({ field: 'metadata.name', message: 'has no default-deny NetworkPolicy' });
      }
      const quotas = inNamespace(context.all, 'ResourceQuota', r.name);
      if (
        !quotas.some(
          (q) =>
            (q.body['spec'] as { hard?: Record<string, unknown> } | undefined)?.hard?.[`requests.${GPU_RESOURCE}`] !==
            undefined,
        )
      ) {
        findings.push({ field: 'metadata.name', message: `has no ResourceQuota limiting requests.${GPU_RESOURCE}` });
      }
      if (!r.labels['pod-security.kubernetes.io/enforce']) {
        findings.push({
          field: 'metadata.labels["pod-security.kubernetes.io/enforce"]',
          message: 'enforces no Pod Security Standard',
        });
      }
      return findings;
    },
  },
  {
    id: 'team-admin-guard',
    severity: 'error',
    rationale:
      'Team admins manage RoleBindings and Secrets in their namespace: unguarded, they can open it to every user or mint a token that never expires.',
    remediation: `Deploy the ValidatingAdmissionPolicies ${Object.values(TEAM_ADMIN_GUARDS).join(' and ')} with failurePolicy Fail, each with a Deny binding whose namespaceSelector selects the team namespaces.`,
    kinds: ['Namespace'],
    check(r, context) {
      if (!isTeamNamespace(r)) return [];
      return Object.values(TEAM_ADMIN_GUARDS).flatMap((name) => guardGaps(name, r, context.all));
    },
  },
  {
    id: 'run-service-account-no-token',
    severity: 'error',
    rationale: 'Run code is the teams’ own; a mounted token would hand it the API.',
    remediation: `Set automountServiceAccountToken: false on the ${RUN_SERVICE_ACCOUNT} ServiceAccount.`,
    kinds: ['ServiceAccount'],
    check(r) {
      if (r.name !== RUN_SERVICE_ACCOUNT || r.body['automountServiceAccountToken'] === false) return [];
      return [{ field: 'automountServiceAccountToken', message: 'mounts its token into every run' }];
    },
  },
  {
    id: 'no-cluster-admin-binding',
    severity: 'error',
    rationale: 'cluster-admin is every permission at once; nothing the platform deploys needs it.',
    remediation: 'Bind a role with only the permissions needed.',
    kinds: ['RoleBinding', 'ClusterRoleBinding'],
    check(r) {
      const ref = r.body['roleRef'] as { name?: string } | undefined;
      return ref?.name === 'cluster-admin' ? [{ field: 'roleRef.name', message: 'grants cluster-admin' }] : [];
    },
  },
];
