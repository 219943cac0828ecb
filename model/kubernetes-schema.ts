import { Type, type TUnsafe } from '@sinclair/typebox';

/**
 * A Kubernetes object inside a TypeBox schema, typed by client-node's `V1*` type and checked only
 * as an object: the API server validates it in full where it lands (a pod template).
 */
export function KubernetesObject<T>(description: string): TUnsafe<T> {
  return Type.Unsafe<T>(Type.Object({}, { additionalProperties: true, description }));
}
