import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * Building blocks that keep TypeBox output a valid Kubernetes structural schema:
 * maps use additionalProperties (never patternProperties), and int-or-string is flagged.
 */
export function StringMap<T extends TSchema>(
  value: T,
  options: { maxProperties?: number; description?: string } = {},
): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value, ...options });
}

export const Quantity = Type.Unsafe<string | number>({
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
});

/** An embedded Kubernetes object we type loosely and let the API server keep whole. */
export function Opaque<T>(description: string): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
}

/** A CEL rule for `x-kubernetes-validations`. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
  readonly reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /** Evaluates the rule on create too, with oldSelf an optional that has no value then. */
  readonly optionalOldSelf?: boolean;
}

/** A CEL rule whose failure forbids the value at `fieldPath` (relative to where the rule sits). */
export function forbidden(rule: string, fieldPath: string, message: string): CelRule {
  return { rule, message, fieldPath, reason: 'FieldValueForbidden' };
}

/** A string enum as Kubernetes wants it (`type: string` with `enum`), not TypeBox's anyOf of literals. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
