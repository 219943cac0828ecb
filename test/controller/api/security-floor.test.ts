import { describe, expect, it } from 'vitest';
import { SECURITY_FLOOR_RULES, SecurityContext } from '../../../controller/api/security-floor.js';
import { allowedValues, floorFieldsAt, type FloorField } from '../../../model/security-floor.js';

const containerFields = floorFieldsAt('container');
/** The fields the CRD cannot or need not check: the controller keeps them at the floor whatever a run says. */
const unchecked = (f: FloorField) => f.replacedOnRuns === true || f.requirement.kind === 'floor-or';

/** The schema at a dotted path of the securityContext, through nested objects. */
function schemaAt(path: string): Record<string, unknown> | undefined {
  let node: Record<string, unknown> | undefined = SecurityContext as unknown as Record<string, unknown>;
  for (const key of path.split('.')) {
    node = (node?.['properties'] as Record<string, Record<string, unknown>> | undefined)?.[key];
  }
  return node;
}

/** Every leaf property of an object schema, as a dotted path. */
function leaves(schema: Record<string, unknown>, prefix = ''): string[] {
  const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(properties).flatMap(([key, s]) =>
    s['type'] === 'object' ? leaves(s, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

describe("the Run CRD's security floor", () => {
  it.each(containerFields.filter((f) => !unchecked(f)).map((f) => [f.path, f] as const))(
    'has a rule on %s naming the field and what it may be',
    (path, field) => {
      const rules = SECURITY_FLOOR_RULES.filter((r) => r.fieldPath === `.${path}`);
      expect(rules).toHaveLength(1);
      expect(rules[0]!.message).toBe(
        `${field.rule}: ${
          field.requirement.kind === 'non-root-id'
            ? `give ${allowedValues(field.requirement)}, or leave ${path} out for the platform's`
            : `${path} can only be ${allowedValues(field.requirement)}`
        }`,
      );
      // An absent value, or any absent object on the way to it, is the platform's and passes.
      const keys = path.split('.');
      expect(rules[0]!.rule.startsWith(`!has(self.${keys[0]})`)).toBe(true);
      expect(rules[0]!.rule).toContain(`self.${path}`);
    },
  );

  it('has a rule for no other field', () => {
    const checked = containerFields.filter((f) => !unchecked(f)).map((f) => `.${f.path}`);
    expect(SECURITY_FLOOR_RULES.map((r) => r.fieldPath).sort()).toEqual(checked.sort());
  });

  it('accepts exactly the floor fields a container has, each typed and described', () => {
    expect(leaves(SecurityContext as unknown as Record<string, unknown>).sort()).toEqual(
      containerFields.map((f) => f.path).sort(),
    );
    for (const field of containerFields) {
      const schema = schemaAt(field.path);
      expect(schema?.['type'], field.path).toBeDefined();
      expect(schema?.['description'], field.path).toMatch(/\.$/);
    }
    expect(schemaAt('runAsUser')).toMatchObject({ type: 'integer' });
    expect(schemaAt('capabilities.add')).toMatchObject({ type: 'array', maxItems: 64 });
    expect(schemaAt('readOnlyRootFilesystem')?.['description']).toBe('May be set to true.');
  });

  it('carries the rules on the securityContext itself, so every container has them', () => {
    expect((SecurityContext as unknown as Record<string, unknown>)['x-kubernetes-validations']).toBe(
      SECURITY_FLOOR_RULES,
    );
  });
});
