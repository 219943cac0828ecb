import { GPU_RESOURCE } from '../../model/pools.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { RUN_SERVICE_ACCOUNT, TEAM_ADMIN_GUARDS, teamArtifactStoreSecretName } from '../../model/names.js';
import type { V1LimitRangeSpec, V1MatchResources, V1ResourceQuotaSpec } from '@kubernetes/client-node';
import { RUN_GROUP, RUN_PLURAL } from '../../controller/api/run.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../model/priority-classes.js';
import { quantityValue } from '../../model/quantity.js';
import { selects } from '../label-selector.js';
import type { Finding, Rule } from '../rule.js';
import { isAnyAddress } from '../../model/network-destination.js';
import type { PolicyResource } from '../resource.js';

/** What a team's quotas must count, so that no team fills what every team shares. */
const COUNTED = ['pods', 'services', 'count/ingresses.networking.k8s.io', `count/${RUN_PLURAL}.${RUN_GROUP}`];

const isTeamNamespace = (r: PolicyResource) => r.kind === 'Namespace' && Boolean(r.labels[PLINTH_LABELS.team]);
const inNamespace = (all: readonly PolicyResource[], kind: string, namespace: string) =>
  all.filter((o) => o.kind === kind && o.namespace === namespace);

interface NetworkPolicySpec {
  podSelector?: Record<string, object>;
  policyTypes?: string[];
  ingress?: unknown[];
  egress?: { to?: { ipBlock?: { cidr?: string } }[]; ports?: { port?: number | string }[] }[];
}
const specOf = (policy: PolicyResource) => (policy.body['spec'] ?? {}) as NetworkPolicySpec;

/** An empty selector (no labels, no expressions) selects every pod of the policy's namespace. */
const selectsEveryPod = (spec: NetworkPolicySpec) =>
  Object.values(spec.podSelector ?? {}).every((part) => Object.keys(part ?? {}).length === 0);

function deniesAll(policy: PolicyResource): boolean {
  const spec = specOf(policy);
  const types = spec.policyTypes ?? [];
  return (
    selectsEveryPod(spec) &&
    types.includes('Ingress') &&
    types.includes('Egress') &&
    !spec.ingress?.length &&
    !spec.egress?.length
  );
}

const admissionSpecOf = (r: PolicyResource) =>
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
  if (admissionSpecOf(policy).failurePolicy === 'Ignore') {
    findings.push({
      field: 'metadata.name',
      message: `ValidatingAdmissionPolicy ${name} has failurePolicy Ignore: a request it fails to evaluate goes through`,
    });
  }
  if (!selects(admissionSpecOf(policy).matchConstraints?.namespaceSelector, labels)) {
    findings.push({
      field: 'metadata.labels',
      message: `the namespaceSelector of ValidatingAdmissionPolicy ${name}'s matchConstraints does not select it`,
    });
  }
  const bound = all.some((o) => {
    const spec = admissionSpecOf(o);
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
/**
 * Whether the checked objects give namespace `namespace` the Secret `name`: the Secret itself
 * (without its values, as a manifest should be), a SealedSecret of that name, or an
 * ExternalSecret whose target is that name.
 */
function suppliesSecret(all: readonly PolicyResource[], namespace: string, name: string): boolean {
  return all.some((o) => {
    if (o.namespace !== namespace) return false;
    if (o.kind === 'Secret' || o.kind === 'SealedSecret') return o.name === name;
    if (o.kind !== 'ExternalSecret') return false;
    const target = (o.body['spec'] as { target?: { name?: string } } | undefined)?.target?.name;
    return (target ?? o.name) === name;
  });
}

/** The rule a NetworkPolicy breaks by letting every pod of its namespace out to any address. */
export const EGRESS_NAMES_DESTINATION = 'egress-names-destination';

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
    id: 'team-namespace-bounds',
    severity: 'error',
    rationale:
      "A team bounded only in CPU, memory and GPUs can still hurt the others: fill the nodes' pod slots, store Runs until the controller runs out of memory, preempt with a system priority class, or keep their pods off every node with cross-namespace pod anti-affinity.",
    remediation: `Give the namespace ResourceQuotas on ${COUNTED.join(', ')}; one of hard pods 0 scoped to the PriorityClasses ${SYSTEM_PRIORITY_CLASSES.join(', ')}; one of hard pods 0 with the CrossNamespacePodAffinity scope; and a LimitRange with a Container min.`,
    kinds: ['Namespace'],
    check(r, context) {
      if (!isTeamNamespace(r)) return [];
      const quotas = inNamespace(context.all, 'ResourceQuota', r.name).map(
        (q) => (q.body['spec'] ?? {}) as V1ResourceQuotaSpec,
      );
      const refusesAllPods = (q: V1ResourceQuotaSpec) => quantityValue(q.hard?.['pods'] ?? 1) === 0;
      const findings: Finding[] = COUNTED.filter((key) => !quotas.some((q) => q.hard?.[key] !== undefined)).map(
        (key) => ({ field: 'metadata.name', message: `has no ResourceQuota counting ${key}` }),
      );
      const systemClassesRefused = quotas.some(
        (q) =>
          refusesAllPods(q) &&
          (q.scopeSelector?.matchExpressions ?? []).some(
            (e) =>
              e.scopeName === 'PriorityClass' &&
              e.operator === 'In' &&
              SYSTEM_PRIORITY_CLASSES.every((c) => e.values?.includes(c)),
          ),
      );
      if (!systemClassesRefused) {
        findings.push({
          field: 'metadata.name',
          message: 'has no ResourceQuota refusing pods of the system priority classes',
        });
      }
      if (!quotas.some((q) => refusesAllPods(q) && (q.scopes ?? []).includes('CrossNamespacePodAffinity'))) {
        findings.push({
          field: 'metadata.name',
          message: 'has no ResourceQuota refusing pods with cross-namespace pod affinity',
        });
      }
      const limitRanges = inNamespace(context.all, 'LimitRange', r.name).map(
        (l) => (l.body['spec'] ?? {}) as V1LimitRangeSpec,
      );
      const hasMinimum = limitRanges.some((l) =>
        l.limits.some(
          (item) => item.type === 'Container' && item.min?.['cpu'] !== undefined && item.min['memory'] !== undefined,
        ),
      );
      if (!hasMinimum) {
        findings.push({ field: 'metadata.name', message: 'has no LimitRange with a minimum Container request' });
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
    id: 'team-artifact-credentials',
    // A warning: the Secret is the one object a platform's manifests cannot carry (its values are
    // keys), so it comes from elsewhere (pulumi up, a secret manager, the local harness), and the
    // manifests alone are not wrong without it.
    severity: 'warning',
    rationale:
      "A team's runs read their artifact-store keys from the team's own Secret, never the platform's: without it, no run of the team starts.",
    remediation: `Give the namespace the Secret ${teamArtifactStoreSecretName('<team>')} with the keys of the team's own store user (pulumi up makes it with plinth:artifactStoreAdmin), or an ExternalSecret or SealedSecret that makes it.`,
    kinds: ['Namespace'],
    check(r, context) {
      const team = r.labels[PLINTH_LABELS.team];
      if (!isTeamNamespace(r) || !team) return [];
      if (context.teamCredentialsOf(context.environmentOf(r)) !== 'secret') return [];
      const name = teamArtifactStoreSecretName(team);
      if (suppliesSecret(context.all, r.name, name)) return [];
      return [
        {
          field: 'metadata.name',
          message: `has no Secret ${name}, nor an ExternalSecret or SealedSecret that makes it: the team's runs cannot reach the artifact store`,
        },
      ];
    },
  },
  {
    id: EGRESS_NAMES_DESTINATION,
    severity: 'error',
    rationale:
      'Egress to any address from every pod of a namespace lets every run reach whatever listens on those ports, and leaves the narrower egress rules restricting nothing.',
    remediation:
      'Name the destination in `to` (a namespaceSelector with a podSelector, or ipBlocks of the CIDRs it is in), or select only the pods that need the opening.',
    kinds: ['NetworkPolicy'],
    check(r) {
      const spec = specOf(r);
      if (!selectsEveryPod(spec)) return [];
      return (spec.egress ?? []).flatMap((rule, i) => {
        const ports = rule.ports?.length ? ` on ports ${rule.ports.map((p) => p.port ?? 'any').join(', ')}` : '';
        const message = `lets every pod of namespace ${r.namespace ?? '(none)'} out to any address${ports}`;
        if (!rule.to?.length) return [{ field: `spec.egress[${i}].to`, message }];
        return rule.to.flatMap((peer, j) =>
          peer.ipBlock?.cidr !== undefined && isAnyAddress(peer.ipBlock.cidr)
            ? [{ field: `spec.egress[${i}].to[${j}].ipBlock.cidr`, message }]
            : [],
        );
      });
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
