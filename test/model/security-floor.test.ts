import { describe, expect, it } from 'vitest';
import {
  SECURITY_FLOOR,
  containerSecurityContext,
  floorFieldsAt,
  meetsFloor,
  podSecurityContext,
  securityContextWith,
  valueAt,
  type FloorLevel,
} from '../../model/security-floor.js';
import { belowFloor } from '../support/below-floor.js';

const security = { runAsUser: 2001, runAsGroup: 2002, fsGroup: 2003 };
const contexts: Record<FloorLevel, object> = {
  pod: podSecurityContext(security),
  container: containerSecurityContext(),
};
const fields = SECURITY_FLOOR;

/** Every leaf of a securityContext, as a dotted path. */
function leaves(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? leaves(v, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

describe('the security floor', () => {
  it('lists each field once', () => {
    expect(new Set(fields.map((f) => f.path)).size).toBe(fields.length);
  });

  it.each(['pod', 'container'] as const)(
    'gives the %s securityContext every field the floor sets there, and no other',
    (level) => {
      const set = fields.filter((f) => f.floor[level] !== undefined);
      expect(leaves(contexts[level]).sort()).toEqual(set.map((f) => f.path).sort());
      for (const field of set) expect(field.levels, field.path).toContain(level);
    },
  );

  it('sets the pod ids from the config, and constants as the table gives them', () => {
    expect(contexts.pod).toEqual({
      runAsNonRoot: true,
      runAsUser: 2001,
      runAsGroup: 2002,
      fsGroup: 2003,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const field of floorFieldsAt('container')) {
      if (field.floor.container !== undefined) {
        expect(valueAt(contexts.container, field.path), field.path).toEqual(field.floor.container);
      }
    }
  });

  it.each(['pod', 'container'] as const)('meets its own requirements in the %s securityContext', (level) => {
    for (const field of floorFieldsAt(level)) {
      const value = valueAt(contexts[level], field.path);
      if (value === undefined) {
        expect(field.mustBeSet, `${field.path} must be set`).toBe(false);
      } else {
        expect(meetsFloor(field.requirement, value, value), field.path).toBe(true);
      }
    }
  });

  it('lets an image that must write opt out of a read-only root filesystem, and nothing else', () => {
    const writable = containerSecurityContext({ readOnlyRootFilesystem: false });
    expect(writable).toEqual({ ...containerSecurityContext(), readOnlyRootFilesystem: false });
  });

  it.each(fields.map((f) => [f.path, f] as const))('refuses a value below the floor of %s', (_, field) => {
    expect(meetsFloor(field.requirement, belowFloor(field.requirement), field.floor.container)).toBe(false);
  });

  it("holds a manifest to every field whose floor is not the workload's own", () => {
    for (const field of fields) {
      expect(field.concern !== undefined, field.path).toBe(field.requirement.kind !== 'floor-or');
    }
  });

  it('takes any non-root id, a tightening the floor allows', () => {
    const uid = fields.find((f) => f.path === 'runAsUser')!.requirement;
    expect([1, 10001, 65534].map((v) => meetsFloor(uid, v))).toEqual([true, true, true]);
    expect([0, -1, 1.5, '1000'].map((v) => meetsFloor(uid, v))).toEqual([false, false, false, false]);
    const readOnly = fields.find((f) => f.path === 'readOnlyRootFilesystem')!.requirement;
    expect([
      meetsFloor(readOnly, true, false),
      meetsFloor(readOnly, false, false),
      meetsFloor(readOnly, false, true),
    ]).toEqual([true, true, false]);
  });

  it('nests dotted paths when it builds a securityContext, leaving out what has no value', () => {
    const drop = fields.find((f) => f.path === 'capabilities.drop')!;
    const add = fields.find((f) => f.path === 'capabilities.add')!;
    const procMount = fields.find((f) => f.path === 'procMount')!;
    expect(
      securityContextWith([
        [drop, ['ALL']],
        [add, []],
        [procMount, undefined],
      ]),
    ).toEqual({
      capabilities: { drop: ['ALL'], add: [] },
    });
  });
});
