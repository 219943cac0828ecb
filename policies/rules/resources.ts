import { GPU_RESOURCE } from '../../model/pools.js';
import type { Finding, Rule } from '../rule.js';
import { containersOf, workloadRule } from '../pod-spec.js';

export const resourceRules: Rule[] = [
  workloadRule({
    id: 'container-resources',
    severity: 'error',
    rationale: 'Without requests the scheduler packs blindly; without limits one container can starve a node.',
    remediation: 'Give every container resources.requests and resources.limits for cpu and memory.',
    check(pod) {
      return containersOf(pod).flatMap(({ container, path }) => {
        const findings: Finding[] = [];
        for (const kind of ['requests', 'limits'] as const) {
          for (const resource of ['cpu', 'memory']) {
            if (container.resources?.[kind]?.[resource] === undefined) {
              findings.push({
                field: `${path}.resources.${kind}.${resource}`,
                message: `container ${container.name} has no ${resource} ${kind.slice(0, -1)}`,
              });
            }
          }
        }
        return findings;
      });
    },
  }),
  workloadRule({
    id: 'gpu-request-equals-limit',
    severity: 'error',
    rationale: 'GPUs cannot be overcommitted: a request without an equal limit is rejected or misread.',
    remediation: `Set resources.limits["${GPU_RESOURCE}"] equal to the request.`,
    check(pod) {
      return containersOf(pod).flatMap(({ container, path }) => {
        const request = container.resources?.requests?.[GPU_RESOURCE];
        const limit = container.resources?.limits?.[GPU_RESOURCE];
        if (request === undefined || String(request) === String(limit)) return [];
        return [
          {
            field: `${path}.resources.limits["${GPU_RESOURCE}"]`,
            message: `container ${container.name} requests ${request} GPUs but limits ${limit ?? 'none'}`,
          },
        ];
      });
    },
  }),
];
