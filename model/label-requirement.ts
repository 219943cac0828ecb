/** An integer label value as Gt and Lt compare it; anything else matches neither. */
const integer = (value: string | undefined): number | undefined =>
  value !== undefined && /^-?\d+$/.test(value) ? Number(value) : undefined;

/**
 * Whether a label's value (undefined where the object lacks the label) meets one requirement of a
 * label selector or node selector term, as Kubernetes decides it. Gt and Lt are node selectors'
 * only; an operator the API server would refuse is met by nothing.
 */
export function meetsLabelRequirement(
  operator: string,
  values: readonly string[] | undefined,
  value: string | undefined,
): boolean {
  const listed = values ?? [];
  switch (operator) {
    case 'In':
      return value !== undefined && listed.includes(value);
    case 'NotIn':
      return value === undefined || !listed.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const [have, bound] = [integer(value), integer(listed[0])];
      if (have === undefined || bound === undefined) return false;
      return operator === 'Gt' ? have > bound : have < bound;
    }
    default:
      return false;
  }
}
