import type { V1LabelSelector } from '@kubernetes/client-node';
import { meetsLabelRequirement } from '../model/label-requirement.js';

/**
 * Whether a label selector selects an object with these labels, as the API server decides it. An
 * absent selector selects everything, as in admission policies' and webhooks' namespaceSelector.
 */
export function selects(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const exact = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    exact &&
    (selector.matchExpressions ?? []).every(({ key, operator, values }) =>
      meetsLabelRequirement(operator, values, labels[key]),
    )
  );
}
