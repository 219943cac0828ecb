import type { Finding, Rule } from '../rule.js';
import { containersOf, workloadRule } from '../pod-spec.js';

export const podSecurityRules: Rule[] = [
  workloadRule({
    id: 'pod-run-as-non-root',
    severity: 'error',
    rationale: 'A container running as root turns any escape or misconfiguration into root on the node.',
    remediation: 'Set securityContext.runAsNonRoot: true on the pod, and a non-zero runAsUser.',
    check(pod) {
      const findings: Finding[] = [];
      const podNonRoot = pod.spec.securityContext?.['runAsNonRoot'] === true;
      if (pod.spec.securityContext?.['runAsUser'] === 0) {
        findings.push({ field: `${pod.path}.securityContext.runAsUser`, message: 'runs as uid 0' });
      }
      for (const { container, path } of containersOf(pod)) {
        const sc = container.securityContext ?? {};
        if (sc['runAsUser'] === 0)
          findings.push({ field: `${path}.securityContext.runAsUser`, message: 'runs as uid 0' });
        if (!podNonRoot && sc['runAsNonRoot'] !== true) {
          findings.push({
            field: `${path}.securityContext.runAsNonRoot`,
            message: `container ${container.name} may run as root`,
          });
        }
      }
      return findings;
    },
  }),
  workloadRule({
    id: 'container-no-privilege-escalation',
    severity: 'error',
    rationale: 'setuid binaries and added capabilities let a process gain more than it started with.',
    remediation: 'Set allowPrivilegeEscalation: false and capabilities.drop: [ALL] on every container.',
    check(pod) {
      return containersOf(pod).flatMap(({ container, path }) => {
        const sc = container.securityContext ?? {};
        const findings: Finding[] = [];
        if (sc['allowPrivilegeEscalation'] !== false) {
          findings.push({
            field: `${path}.securityContext.allowPrivilegeEscalation`,
            message: `container ${container.name} allows privilege escalation`,
          });
        }
        if (!(sc.capabilities?.drop ?? []).includes('ALL')) {
          findings.push({
            field: `${path}.securityContext.capabilities.drop`,
            message: `container ${container.name} does not drop ALL capabilities`,
          });
        }
        if ((sc.capabilities?.add ?? []).length > 0) {
          findings.push({
            field: `${path}.securityContext.capabilities.add`,
            message: `container ${container.name} adds ${sc.capabilities?.add?.join(', ')}`,
          });
        }
        return findings;
      });
    },
  }),
  workloadRule({
    id: 'pod-no-host-access',
    severity: 'error',
    rationale: 'Privileged containers and host namespaces or paths give a pod the node itself.',
    remediation: 'Remove privileged: true, hostNetwork, hostPID, hostIPC and hostPath volumes.',
    check(pod) {
      const findings: Finding[] = [];
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
      for (const { container, path } of containersOf(pod)) {
        if (container.securityContext?.['privileged'] === true) {
          findings.push({
            field: `${path}.securityContext.privileged`,
            message: `container ${container.name} is privileged`,
          });
        }
      }
      return findings;
    },
  }),
  workloadRule({
    id: 'pod-seccomp-runtime-default',
    severity: 'error',
    rationale: 'Without a seccomp profile every syscall is open to the container.',
    remediation: 'Set securityContext.seccompProfile.type: RuntimeDefault on the pod.',
    check(pod) {
      const podProfile = pod.spec.securityContext?.seccompProfile?.type;
      if (podProfile === 'RuntimeDefault' || podProfile === 'Localhost') return [];
      return containersOf(pod)
        .filter(
          ({ container }) =>
            !['RuntimeDefault', 'Localhost'].includes(
              String((container.securityContext?.['seccompProfile'] as { type?: string } | undefined)?.type),
            ),
        )
        .map(({ path, container }) => ({
          field: `${path}.securityContext.seccompProfile.type`,
          message: `container ${container.name} has no RuntimeDefault seccomp profile`,
        }));
    },
  }),
];
