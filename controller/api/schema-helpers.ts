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

/**
 * A resource quantity that cannot be negative, as requests and limits must be: a number, or a
 * string in Kubernetes' quantity format (`500m`, `2Gi`, `1e3`; resource.Quantity's regexp without
 * its minus sign). The pattern applies to the string form only.
 */
export const Quantity = Type.Unsafe<string | number>({
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  minimum: 0,
  pattern:
    '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
});

/**
 * Kubernetes' formats of names and values (k8s.io/apimachinery/pkg/util/validation), as patterns
 * the API server checks at apply time, naming the field when one does not match.
 */
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = `${LABEL}(\\.${LABEL})*`;
/** A qualified name's name part: at most 63 characters, alphanumeric at both ends. */
const QUALIFIED_NAME_PART = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';

/** A DNS-1123 label: a container's or volume's name. */
export const Dns1123Label = (description: string) =>
  Type.String({ minLength: 1, maxLength: 63, pattern: `^${LABEL}$`, description });

/** A DNS-1123 subdomain: most object names (a ServiceAccount's, a PriorityClass's). */
export const Dns1123Subdomain = (description: string) =>
  Type.String({ minLength: 1, maxLength: 253, pattern: `^${SUBDOMAIN}$`, description });

/** A label value: empty, or at most 63 characters, alphanumeric at both ends. */
export const LabelValue = (description?: string) =>
  Type.String({ maxLength: 63, pattern: `^(${QUALIFIED_NAME_PART})?$`, ...(description ? { description } : {}) });

/** A qualified name (a label key): an optional DNS-subdomain prefix of at most 253 characters and '/', then a name. */
export const QUALIFIED_NAME = `^(${SUBDOMAIN}/)?${QUALIFIED_NAME_PART}$`;

/**
 * An IANA service name, as Kubernetes checks port names: at most 15 lowercase letters, digits and
 * '-', at least one letter, no '-' at either end nor two in a row.
 */
export const IanaServiceName = (description: string) =>
  Type.String({ maxLength: 15, pattern: '^([0-9]+-)*[0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$', description });

/**
 * An env var name as the API server takes it since Kubernetes 1.34 (RelaxedEnvironmentVariableValidation):
 * printable ASCII but '='.
 */
export const EnvVarName = (description: string, maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[ -<>-~]+$', description });

/**
 * A CEL rule on a map that every key is a qualified name, naming the first that is not. Annotation
 * keys are checked in lowercase, as the API server does.
 */
export function qualifiedKeys(what: string, options: { anyCase?: boolean } = {}): CelRule {
  const key = options.anyCase ? 'k.lowerAscii()' : 'k';
  const valid = `${key}.matches('${QUALIFIED_NAME.replaceAll('\\', '\\\\')}') && ${key}.indexOf('/') <= 253`;
  return {
    rule: `self.all(k, ${valid})`,
    messageExpression: `'${what} "' + self.filter(k, !(${valid}))[0] + '" is not a qualified name: an optional DNS subdomain prefix of at most 253 characters and \\'/\\', then at most 63 letters, digits, \\'-\\', \\'_\\' or \\'.\\', with a letter or digit at both ends'`,
    message: `${what}s must be qualified names`,
    reason: 'FieldValueInvalid',
  };
}

/**
 * A CEL rule on a map of pod labels or annotations that no key starts with one of `prefixes`,
 * naming the first that does: those keys are the platform's, Kubernetes' or an add-on's to set.
 */
export function unreservedKeys(what: string, prefixes: readonly string[]): CelRule {
  const reserved = `(${prefixes.map((p) => `k.startsWith('${p}')`).join(' || ')})`;
  return {
    rule: `!self.exists(k, ${reserved})`,
    messageExpression: `'${what} "' + self.filter(k, ${reserved})[0] + '" is reserved: keys starting with ${prefixes.join(', ')} are the platform\\'s, Kubernetes\\' or an add-on\\'s to set'`,
    message: `${what}s may not start with ${prefixes.join(', ')}`,
    reason: 'FieldValueForbidden',
  };
}

/** An embedded Kubernetes object we type loosely and let the API server keep whole. */
export function Opaque<T>(description: string): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
}

/**
 * A field declared only so that a rule can refuse it with the reason, rather than the API server
 * calling it unknown: any object, or any list of strings, is taken by the schema, and a rule beside
 * it refuses it. CEL sees only fields with a type, so the rule needs one.
 */
export function Refused<T>(description: string, shape: 'object' | 'list' = 'object'): TUnsafe<T> {
  return Type.Unsafe<T>(
    shape === 'object'
      ? { type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true }
      : { type: 'array', description, maxItems: 64, items: { type: 'string', maxLength: 253 } },
  );
}

/** A CEL rule for `x-kubernetes-validations`. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
  /** A message built from the value, which wins over message where it evaluates. */
  readonly messageExpression?: string;
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
  options: { description?: string; default?: T[number] } = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
