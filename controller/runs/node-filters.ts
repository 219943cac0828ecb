import type { V1Node, V1NodeSelectorRequirement, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { meetsLabelRequirement } from '../../model/label-requirement.js';

/**
 * The scheduler's node filters that depend on the pod and the node alone (TaintToleration,
 * NodeAffinity), so that the diagnosis can tell, from the nodes at hand, which nodes a pod may go
 * to: the rest of a FailedScheduling message is about those nodes only.
 */

function tolerates(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** The node's taints that keep the pod off it: PreferNoSchedule only steers, it never refuses. */
export function untoleratedTaints(pod: V1Pod, node: V1Node): V1Taint[] {
  return (node.spec?.taints ?? []).filter(
    (t) => t.effect !== 'PreferNoSchedule' && !(pod.spec?.tolerations ?? []).some((tol) => tolerates(tol, t)),
  );
}

export const taintText = (t: V1Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;

export function hasSelectedLabels(pod: V1Pod, node: V1Node): boolean {
  return Object.entries(pod.spec?.nodeSelector ?? {}).every(([k, v]) => node.metadata?.labels?.[k] === v);
}

function meets(requirement: V1NodeSelectorRequirement, value: string | undefined): boolean {
  return meetsLabelRequirement(requirement.operator, requirement.values, value);
}

/** The pod's required node affinity: any one term, each of whose requirements the node meets. */
export function meetsRequiredNodeAffinity(pod: V1Pod, node: V1Node): boolean {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  const fields: Record<string, string | undefined> = { 'metadata.name': node.metadata?.name };
  return terms.some((term) => {
    const expressions = term.matchExpressions ?? [];
    const matchFields = term.matchFields ?? [];
    // An empty term matches no node, as the scheduler reads it.
    if (expressions.length === 0 && matchFields.length === 0) return false;
    return (
      expressions.every((r) => meets(r, node.metadata?.labels?.[r.key])) &&
      matchFields.every((r) => meets(r, fields[r.key]))
    );
  });
}
