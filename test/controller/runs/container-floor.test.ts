import { describe, expect, it } from 'vitest';
import type { V1SecurityContext } from '@kubernetes/client-node';
import { enforceContainerFloor } from '../../../controller/runs/pod-template.js';
import { floorFieldsAt, meetsFloor, securityContextWith, valueAt } from '../../../model/security-floor.js';
import { belowFloor } from '../../support/below-floor.js';
import { runDefaultsOf } from '../../support/platform.js';

/** The floor the controller applies to run containers, from the ConfigMap the constructs write. */
const floor = runDefaultsOf('local').containerSecurityContext;
const fields = floorFieldsAt('container');

describe('the security floor on a run container', () => {
  it('is the floor itself for a run that asks for nothing', () => {
    expect(enforceContainerFloor(undefined, floor)).toEqual(floor);
    expect(enforceContainerFloor({}, floor)).toEqual(floor);
  });

  it.each(fields.map((f) => [f.path, f] as const))('overrides a run that asks below the floor on %s', (path, field) => {
    const asked = securityContextWith([[field, belowFloor(field.requirement)]]) as V1SecurityContext;
    const enforced = enforceContainerFloor(asked, floor);
    const value = valueAt(enforced, path);
    // Where the floor sets nothing, what Kubernetes does without the field (or the pod's value) meets it.
    if (value === undefined) expect(valueAt(floor, path)).toBeUndefined();
    else expect(meetsFloor(field.requirement, value, valueAt(floor, path)), `${path}: ${String(value)}`).toBe(true);
    expect(enforced).toEqual(floor);
  });

  it('overrides every field at once, whatever the run asks', () => {
    const asked = securityContextWith(fields.map((f) => [f, belowFloor(f.requirement)] as const)) as V1SecurityContext;
    expect(enforceContainerFloor(asked, floor)).toEqual(floor);
  });

  it("keeps a tightening: the run's own non-root uid and gid and a read-only root filesystem", () => {
    const enforced = enforceContainerFloor(
      { runAsUser: 2000, runAsGroup: 3000, readOnlyRootFilesystem: true, capabilities: { drop: ['NET_RAW'] } },
      floor,
    );
    expect(enforced).toEqual({ ...floor, runAsUser: 2000, runAsGroup: 3000, readOnlyRootFilesystem: true });
  });

  it('keeps what the floor allows and the run restates, and drops what the floor does not list', () => {
    const enforced = enforceContainerFloor(
      {
        runAsNonRoot: true,
        capabilities: { add: [] },
        seccompProfile: { type: 'RuntimeDefault', localhostProfile: 'profiles/own.json' },
        seLinuxOptions: { level: 's0:c1' },
      },
      floor,
    );
    expect(enforced).toEqual({ ...floor, capabilities: { drop: ['ALL'], add: [] } });
  });

  it('holds the floor even where the ConfigMap falls short of it', () => {
    const loose: V1SecurityContext = {
      runAsNonRoot: false,
      runAsUser: 0,
      privileged: true,
      allowPrivilegeEscalation: true,
      capabilities: { drop: [], add: ['SYS_ADMIN'] },
      seccompProfile: { type: 'Unconfined' },
      procMount: 'Unmasked',
    };
    expect(enforceContainerFloor(undefined, loose)).toEqual({
      runAsNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
      procMount: 'Default',
    });
  });
});
