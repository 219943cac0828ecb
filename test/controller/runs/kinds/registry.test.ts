import { describe, expect, it } from 'vitest';
import { RUN_CHILDREN } from '../../../../controller/api/children.js';
import { LEAF_KIND_NAMES, RUN_KIND_NAMES, RunSpec, RunTemplate } from '../../../../controller/api/run.js';
import { RUN_KINDS } from '../../../../controller/runs/kinds/registry.js';

describe('the run kind registry', () => {
  it('has an implementation, under its own name, for every leaf kind the Run API accepts', () => {
    expect(Object.keys(RUN_KINDS).sort()).toEqual([...LEAF_KIND_NAMES].sort());
    for (const [name, kind] of Object.entries(RUN_KINDS)) expect(kind.name).toBe(name);
    expect((RunSpec.properties.kind as unknown as { enum: string[] }).enum).toEqual([...RUN_KIND_NAMES]);
  });

  it('finds each leaf kind its section under its own name in the spec and in templates', () => {
    for (const kind of LEAF_KIND_NAMES) {
      expect(RunSpec.properties[kind]).toBeDefined();
      expect(RunTemplate.properties[kind]).toBeDefined();
    }
  });

  it('makes only children the controller watches, applies and deletes (api/children.ts)', () => {
    for (const kind of Object.values(RUN_KINDS)) {
      for (const child of kind.children) {
        expect(RUN_CHILDREN, `${kind.name} makes ${child.kind}`).toContain(child);
        expect(child.uses).toEqual(expect.arrayContaining(['watch', 'apply', 'delete']));
      }
    }
  });
});
