import type { FloorRequirement } from '../../model/security-floor.js';

/** A value each requirement refuses: what a run or manifest that asks for less would write. */
export function belowFloor(requirement: FloorRequirement): unknown {
  switch (requirement.kind) {
    case 'only':
      return typeof requirement.value === 'string' ? `not ${requirement.value}` : !requirement.value;
    case 'non-root-id':
      return 0;
    case 'empty':
      return ['NET_ADMIN'];
    case 'includes':
      return ['NET_RAW'];
    case 'floor-or':
      return !requirement.value;
  }
}
