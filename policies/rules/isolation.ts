import { GPU_RESOURCE } from '../../model/pools.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { RUN_SERVICE_ACCOUNT } from '../../model/names.js';
import type { Rule } from '../rule.js';
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
