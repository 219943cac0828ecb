import type { V1LabelSelector } from '@kubernetes/client-node';

/**
 * Whether a label selector selects an object with these labels, as the API server decides it. An
 * absent selector selects everything, as in admission policies' and webhooks' namespaceSelector.
 */
export function selects(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const exact = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    exact &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      switch (operator) {
        case 'In':
          return value !== undefined && values.includes(value);
        case 'NotIn':
          return value === undefined || !values.includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          // The API server refuses any other operator; a selector it would refuse selects nothing.
          return false;
      }
    })
  );
}
