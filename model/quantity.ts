/**
 * Kubernetes resource quantities as numbers (k8s.io/apimachinery's resource.Quantity): `2`, `1000m`,
 * `1e3`, `1Gi`. Written here rather than taken from @kubernetes/client-node, whose quantityToScalar
 * is not exported from its entry point and mixes numbers and BigInts; counts such as GPUs need
 * only a number, and the API server has already checked the format.
 */
const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|([KMGTPE]i|[numkMGTPE]))?$/;

/** The value of a quantity, or an error naming it when it is not one. */
export function quantityValue(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = QUANTITY.exec(quantity.trim());
  const multiplier = SUFFIXES[match?.[3] ?? ''];
  if (!match || multiplier === undefined) {
    throw new Error(`"${quantity}" is not a Kubernetes quantity, such as 2, 500m, 1e3 or 4Gi`);
  }
  return Number(`${match[1]}${match[2] ?? ''}`) * multiplier;
}
