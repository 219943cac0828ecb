import {
  SECURITY_FLOOR,
  allowedValues,
  meetsFloor,
  valueAt,
  type FloorConcern,
  type FloorField,
} from '../../model/security-floor.js';
import type { Finding, Rule } from '../rule.js';
import { containersOf, workloadRule, type PodAt } from '../pod-spec.js';

/**
 * The floor's fields a manifest is held to, by concern. A field whose floor is the workload's own
 * (a read-only root filesystem) has no concern: no rule can know that floor.
 */
function floorFields(concern: FloorConcern): readonly FloorField[] {
  return SECURITY_FLOOR.filter((field) => field.concern === concern);
}

function shown(value: unknown): string {
  return Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
}

/**
 * Where a pod falls below the floor's fields of one concern. A container reads a field from its
 * own securityContext, else from the pod's, as Kubernetes does; a value below the floor is named
 * where it is written, and a field the floor needs set is named on each container that has none.
 */
function floorFindings(pod: PodAt, concern: FloorConcern): Finding[] {
  const findings: Finding[] = [];
  for (const field of floorFields(concern)) {
    const allowed = allowedValues(field.requirement);
    const podValue = field.levels.includes('pod') ? valueAt(pod.spec.securityContext, field.path) : undefined;
    if (podValue !== undefined && !meetsFloor(field.requirement, podValue)) {
      findings.push({
        field: `${pod.path}.securityContext.${field.path}`,
        message: `the pod's ${field.path} is ${shown(podValue)}, and must be ${allowed}`,
      });
    }
    if (!field.levels.includes('container')) continue;
    for (const { container, path } of containersOf(pod)) {
      const value = valueAt(container.securityContext, field.path);
      if (value !== undefined && !meetsFloor(field.requirement, value)) {
        findings.push({
          field: `${path}.securityContext.${field.path}`,
          message: `container ${container.name}'s ${field.path} is ${shown(value)}, and must be ${allowed}`,
        });
      } else if (value === undefined && podValue === undefined && field.mustBeSet) {
        findings.push({
          field: `${path}.securityContext.${field.path}`,
          message: `container ${container.name} does not set ${field.path}, which must be ${allowed}`,
        });
      }
    }
  }
  return findings;
}

/** How to meet the floor's fields of one concern: those Kubernetes leaves below the floor must be set. */
function floorRemediation(concern: FloorConcern): string {
  const fields = floorFields(concern);
  const listed = (mustBeSet: boolean) =>
    fields
      .filter((f) => f.mustBeSet === mustBeSet)
      .map((f) => `${f.path}: ${allowedValues(f.requirement)}`)
      .join(', ');
  const [set, whereSet] = [listed(true), listed(false)];
  return `In securityContext, ${[set && `set ${set}`, whereSet && `where set, give ${whereSet}`].filter(Boolean).join('; ')}`;
}

/** The rule that checks each concern of the security floor, by its id. */
export const FLOOR_RULE_IDS: Readonly<Record<FloorConcern, string>> = {
  root: 'pod-run-as-non-root',
  'privilege-escalation': 'container-no-privilege-escalation',
  'host-access': 'pod-no-host-access',
  syscalls: 'pod-seccomp-runtime-default',
};

export const podSecurityRules: Rule[] = [
  workloadRule({
    id: FLOOR_RULE_IDS.root,
    severity: 'error',
    rationale: 'A container running as root turns any escape or misconfiguration into root on the node.',
    remediation: `${floorRemediation('root')}.`,
    check: (pod) => floorFindings(pod, 'root'),
  }),
  workloadRule({
    id: FLOOR_RULE_IDS['privilege-escalation'],
    severity: 'error',
    rationale: 'setuid binaries and added capabilities let a process gain more than it started with.',
    remediation: `${floorRemediation('privilege-escalation')}.`,
    check: (pod) => floorFindings(pod, 'privilege-escalation'),
  }),
  workloadRule({
    id: FLOOR_RULE_IDS['host-access'],
    severity: 'error',
    rationale: 'Privileged containers, an unmasked /proc, and host namespaces or paths give a pod the node itself.',
    remediation: `${floorRemediation('host-access')}; remove hostNetwork, hostPID, hostIPC and hostPath volumes.`,
    check(pod) {
      const findings: Finding[] = floorFindings(pod, 'host-access');
      for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
        if (pod.spec[field]) findings.push({ field: `${pod.path}.${field}`, message: `uses ${field}` });
      }
      (pod.spec.volumes ?? []).forEach((v, i) => {
        if (v['hostPath'])
          findings.push({
            field: `${pod.path}.volumes[${i}].hostPath`,
            message: `volume ${String(v['name'])} mounts a host path`,
          });
      });
      return findings;
    },
  }),
  workloadRule({
    id: FLOOR_RULE_IDS.syscalls,
    severity: 'error',
    rationale: 'Without a seccomp profile every syscall is open to the container.',
    remediation: `${floorRemediation('syscalls')}.`,
    check: (pod) => floorFindings(pod, 'syscalls'),
  }),
];
