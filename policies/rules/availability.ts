import type { Rule } from '../rule.js';
import type { PolicyResource } from '../resource.js';
import { containersOf, podSpecOf } from '../pod-spec.js';

const replicasOf = (r: PolicyResource) => Number((r.body['spec'] as { replicas?: number } | undefined)?.replicas ?? 1);
const templateLabels = (r: PolicyResource) =>
  (r.body['spec'] as { template?: { metadata?: { labels?: Record<string, string> } } })?.template?.metadata?.labels ??
  {};

function pdbCovers(pdb: PolicyResource, labels: Record<string, string>): boolean {
  const match =
    (pdb.body['spec'] as { selector?: { matchLabels?: Record<string, string> } })?.selector?.matchLabels ?? {};
  return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels[k] === v);
}

export const availabilityRules: Rule[] = [
  {
    id: 'replicated-workload-pdb-and-probes',
    severity: 'error',
    rationale: 'Replicas only help if a drain cannot take them all at once and broken ones leave the Service.',
    remediation: 'Add a PodDisruptionBudget selecting the pods, and liveness and readiness probes on every container.',
    kinds: ['Deployment', 'StatefulSet'],
    check(r, context) {
      if (replicasOf(r) < 2) return [];
      const findings = [];
      const labels = templateLabels(r);
      const pdb = context.all.some(
        (o) => o.kind === 'PodDisruptionBudget' && o.namespace === r.namespace && pdbCovers(o, labels),
      );
      if (!pdb)
        findings.push({
          field: 'spec.replicas',
          message: `has ${replicasOf(r)} replicas but no PodDisruptionBudget selects its pods`,
        });
      const pod = podSpecOf(r);
      for (const { container, path } of pod
        ? containersOf(pod).filter((c) => !c.path.includes('initContainers'))
        : []) {
        if (!container.livenessProbe)
          findings.push({
            field: `${path}.livenessProbe`,
            message: `container ${container.name} has no liveness probe`,
          });
        if (!container.readinessProbe)
          findings.push({
            field: `${path}.readinessProbe`,
            message: `container ${container.name} has no readiness probe`,
          });
      }
      return findings;
    },
  },
  {
    id: 'postgres-ha',
    severity: 'error',
    rationale: 'One Postgres instance is one node failure away from losing the platform’s metadata.',
    remediation: 'Run at least 3 instances (spec.instances) outside the local environment.',
    kinds: ['Cluster'],
    check(r, context) {
      if (!r.apiVersion?.startsWith('postgresql.cnpg.io/') || context.environmentOf(r) === 'local') return [];
      const instances = Number((r.body['spec'] as { instances?: number } | undefined)?.instances ?? 1);
      return instances >= 3
        ? []
        : [{ field: 'spec.instances', message: `runs ${instances} instance(s); at least 3 are needed outside local` }];
    },
  },
  {
    id: 'rds-multi-az',
    severity: 'error',
    rationale: 'A single-AZ database goes down with its availability zone.',
    remediation: 'Set multiAz: true on production RDS instances.',
    kinds: ['aws:rds/instance:Instance'],
    check(r, context) {
      if (!context.isProduction(context.environmentOf(r)) || r.body['multiAz'] === true) return [];
      return [{ field: 'multiAz', message: 'is not multi-AZ in a production environment' }];
    },
  },
];
