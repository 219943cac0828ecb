import type { V1SecurityContext } from '@kubernetes/client-node';
import { Type, type TSchema } from '@sinclair/typebox';
import {
  FIRST_NON_ROOT_ID,
  allowedValues,
  floorFieldsAt,
  type FloorField,
  type FloorRequirement,
} from '../../model/security-floor.js';
import { forbidden, type CelRule } from './schema-helpers.js';

/** The floor's fields a run's container may write, each checked by the CRD unless the controller replaces it. */
const RUN_FIELDS = floorFieldsAt('container');

/** The CEL condition that a present value meets the requirement, or undefined where CEL cannot tell. */
function celHolds(requirement: FloorRequirement, value: string): string | undefined {
  switch (requirement.kind) {
    case 'only':
      if (typeof requirement.value === 'string') return `${value} == '${requirement.value}'`;
      return requirement.value ? value : `!${value}`;
    case 'non-root-id':
      return `${value} >= ${FIRST_NON_ROOT_ID}`;
    case 'empty':
      return `size(${value}) == 0`;
    case 'includes':
      return `'${requirement.item}' in ${value}`;
    case 'floor-or':
      // The CRD does not know the environment's floor (the controller's ConfigMap does), and
      // the controller keeps a run's value only where it meets it.
      return undefined;
  }
}

/** What the field may be, as the CRD's message says it after the floor's rule. */
function allowedOnRuns(field: FloorField): string {
  const allowed = allowedValues(field.requirement);
  return field.requirement.kind === 'non-root-id'
    ? `give ${allowed}, or leave ${field.path} out for the platform's`
    : `${field.path} can only be ${allowed}`;
}

function floorRule(field: FloorField): CelRule[] {
  const keys = field.path.split('.');
  const at = (depth: number) => ['self', ...keys.slice(0, depth)].join('.');
  const holds = field.replacedOnRuns ? undefined : celHolds(field.requirement, at(keys.length));
  if (holds === undefined) return [];
  // Every field on the way may be absent: an absent value is the platform's, which meets the floor.
  const absent = keys.map((_, i) => `!has(${at(i + 1)})`).join(' || ');
  return [forbidden(`${absent} || ${holds}`, `.${field.path}`, `${field.rule}: ${allowedOnRuns(field)}`)];
}

/**
 * CEL rules on a container's securityContext: the controller would apply the security floor
 * anyway, but a run that asks to go below it is refused at apply time, naming the field, rather
 * than started with settings it did not ask for.
 */
export const SECURITY_FLOOR_RULES: readonly CelRule[] = RUN_FIELDS.flatMap(floorRule);

/** What a run's container may give for the field, as the CRD describes it. */
export function describeOnRuns(field: FloorField): string {
  const { requirement } = field;
  if (field.replacedOnRuns) return `Whatever is listed, the platform sets ${String(field.floor.container)}.`;
  switch (requirement.kind) {
    case 'non-root-id':
      return `A ${requirement.noun} of ${FIRST_NON_ROOT_ID} or more; the platform's when left out.`;
    case 'floor-or':
      return `May be set to ${String(requirement.value)}.`;
    default:
      return `Only ${allowedValues(requirement)}.`;
  }
}

function schemaOf(field: FloorField): TSchema {
  const description = describeOnRuns(field);
  const { requirement } = field;
  switch (requirement.kind) {
    case 'only':
    case 'floor-or':
      return typeof requirement.value === 'string' ? Type.String({ description }) : Type.Boolean({ description });
    case 'non-root-id':
      return Type.Integer({ description });
    case 'empty':
    case 'includes':
      // Bounded, so that the API server can bound the cost of the CEL rules over it.
      return Type.Array(Type.String(), { maxItems: 64, description });
  }
}

/** The closed object of these fields, nesting those whose paths share a first key. */
function closedObject(fields: readonly { readonly keys: readonly string[]; readonly field: FloorField }[]) {
  const properties: Record<string, TSchema> = {};
  const groups = new Map<string, typeof fields>();
  for (const entry of fields) {
    const [first, ...rest] = entry.keys;
    if (first === undefined) continue;
    if (rest.length === 0) properties[first] = Type.Optional(schemaOf(entry.field));
    else groups.set(first, [...(groups.get(first) ?? []), { keys: rest, field: entry.field }]);
  }
  for (const [key, members] of groups) {
    const rules = [...new Set(members.map((m) => m.field.rule))];
    const description = `${rules.join('; ')}.`.replace(/^./, (c) => c.toUpperCase());
    properties[key] = Type.Optional(Type.Object(closedObject(members).properties, { description }));
  }
  return Type.Object(properties);
}

/**
 * What a run may say of its container's security: the floor's fields a container has, and only
 * those. Closed, so that nothing the controller would silently drop is accepted, and carrying the
 * floor's rules wherever a container is (the main one and every init container). Built from the
 * floor's table, so TypeBox cannot infer its fields: it is typed as the V1SecurityContext the
 * controller reads, of which it accepts a part.
 */
export const SecurityContext = Type.Unsafe<V1SecurityContext>(
  Type.Object(closedObject(RUN_FIELDS.map((field) => ({ keys: field.path.split('.'), field }))).properties, {
    'x-kubernetes-validations': SECURITY_FLOOR_RULES,
    description:
      "May only tighten the platform's security floor: a non-root uid or gid of its own, a read-only root filesystem.",
  }),
);
