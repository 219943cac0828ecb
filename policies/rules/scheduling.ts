import { GPU_RESOURCE, GPU_TAINT, POOL_LABEL } from '../../model/pools.js';
import { PART_OF, APP_LABELS, PLINTH_LABELS } from '../../model/labels.js';
import type { Finding, Rule } from '../rule.js';
import type { PolicyResource } from '../resource.js';
import { containersOf, workloadRule, type PodAt, type PodSpec } from '../pod-spec.js';

const isCoreService = (r: PolicyResource) => r.labels[APP_LABELS.partOf] === PART_OF && !r.labels[PLINTH_LABELS.run];
const requestsGpu = (pod: PodAt) =>
  containersOf(pod).some(
    ({ container }) =>
      Number(container.resources?.requests?.[GPU_RESOURCE] ?? container.resources?.limits?.[GPU_RESOURCE] ?? 0) > 0,
  );
const toleratesGpu = (spec: PodSpec) =>
  (spec.tolerations ?? []).some((t) => t.key === GPU_TAINT.key || (t.operator === 'Exists' && !t.key));

export const schedulingRules: Rule[] = [
  workloadRule({
    id: 'core-service-placement',
    severity: 'error',
    rationale: 'Platform services belong on the dedicated core nodes, never on GPU nodes paid for runs.',
    remediation: `Select the core pool with nodeSelector ${POOL_LABEL}: <core pool>, and drop any ${GPU_TAINT.key} toleration.`,
    check(pod, r, context) {
      if (!isCoreService(r)) return [];
      const findings: Finding[] = [];
      const pool = pod.spec.nodeSelector?.[POOL_LABEL];
      const core = context.poolsOf(context.environmentOf(r))?.core;
      if (!pool || (core && pool !== core)) {
        findings.push({
          field: `${pod.path}.nodeSelector["${POOL_LABEL}"]`,
          message: `selects ${pool ? `pool "${pool}"` : 'no pool'}, not the core pool${core ? ` "${core}"` : ''}`,
        });
      }
      if (toleratesGpu(pod.spec))
        findings.push({ field: `${pod.path}.tolerations`, message: `tolerates the GPU taint ${GPU_TAINT.key}` });
      return findings;
    },
  }),
  workloadRule({
    id: 'gpu-pod-placement',
    severity: 'error',
    rationale: 'A GPU pod must tolerate the GPU taint and select a GPU pool, or it never schedules.',
    remediation: `Add a toleration for ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect} and nodeSelector ${POOL_LABEL}: <gpu pool>.`,
    check(pod, r, context) {
      if (!requestsGpu(pod)) return [];
      const findings: Finding[] = [];
      if (!toleratesGpu(pod.spec))
        findings.push({
          field: `${pod.path}.tolerations`,
          message: `requests ${GPU_RESOURCE} but does not tolerate ${GPU_TAINT.key}`,
        });
      const pool = pod.spec.nodeSelector?.[POOL_LABEL];
      const gpuPools = context.poolsOf(context.environmentOf(r))?.gpu;
      if (!pool || (gpuPools && !gpuPools.includes(pool))) {
        findings.push({
          field: `${pod.path}.nodeSelector["${POOL_LABEL}"]`,
          message: `requests ${GPU_RESOURCE} but selects ${pool ? `pool "${pool}", not a GPU pool` : 'no pool'}`,
        });
      }
      return findings;
    },
  }),
  workloadRule({
    id: 'pool-exists',
    severity: 'error',
    rationale: 'A selector for a pool that does not exist leaves the pod pending forever.',
    remediation: 'Select one of the environment’s node pools.',
    check(pod, r, context) {
      const pool = pod.spec.nodeSelector?.[POOL_LABEL];
      const pools = context.poolsOf(context.environmentOf(r))?.names;
      if (!pool || !pools || pools.includes(pool)) return [];
      return [
        {
          field: `${pod.path}.nodeSelector["${POOL_LABEL}"]`,
          message: `selects pool "${pool}", which does not exist (pools: ${pools.join(', ')})`,
        },
      ];
    },
  }),
];
