import { describe, expect, it } from 'vitest';
import type { V1Job, V1Node, V1Pod } from '@kubernetes/client-node';
import type { LeafRun } from '../../../controller/api/composition.js';
import { trimJob, trimPod } from '../../../controller/runtime/cache-trim.js';
import { diagnosePod } from '../../../controller/runs/diagnosis.js';
import { jobKind, jobState } from '../../../controller/runs/kinds/job.js';
import { runDefaultsOf } from '../../support/platform.js';

const defaults = runDefaultsOf('local');
const context = { defaults, team: defaults.teams['plinth-vision']!, pool: 'gpu' };
const desiredJob = (r: LeafRun) => jobKind.desired(r, context)[0] as V1Job;

const run: LeafRun = {
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'train', namespace: 'plinth-vision', uid: 'u1' },
  spec: {
    kind: 'job',
    pool: 'gpu',
    job: {
      container: { image: 'x:1', resources: { limits: { 'nvidia.com/gpu': '2' } } },
      termination: { maxRetries: 2 },
    },
  },
};
const managedFields = [{ manager: 'kube-scheduler', operation: 'Update', fieldsV1: { 'f:status': {} } }];

/** The pod the Job controller would make from the controller's own template, waiting for a node. */
function pendingPod(): V1Pod {
  const template = desiredJob(run).spec!.template;
  return {
    metadata: { ...template.metadata, name: 'train-abcde', managedFields },
    spec: template.spec,
    status: {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/2 nodes are available: 1 node(s) had untolerated taint(s), 1 Insufficient nvidia.com/gpu.',
        },
      ],
    },
  };
}
const nodes: V1Node[] = [
  { metadata: { name: 'cpu-0', labels: { 'plinth.dev/pool': 'cpu' } }, spec: {} },
  {
    metadata: { name: 'gpu-0', labels: { 'plinth.dev/pool': 'gpu' } },
    spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
  },
];

describe('cache trims', () => {
  it('keep what diagnosis reads of a pod, and drop its env, volumes and managed fields', () => {
    const pod = pendingPod();
    const full = structuredClone(pod);
    trimPod(pod);
    expect(pod.metadata?.managedFields).toBeUndefined();
    expect(pod.spec?.containers[0]).toEqual({
      name: 'main',
      image: 'x:1',
      resources: full.spec?.containers[0]?.resources,
    });
    expect(JSON.stringify(pod)).not.toContain('PLINTH_RUN');
    expect(pod.spec?.nodeSelector).toEqual(full.spec?.nodeSelector);
    expect(pod.spec?.tolerations).toEqual(full.spec?.tolerations);
    expect(pod.status).toEqual(full.status);
    expect(diagnosePod(pod, nodes)).toEqual(diagnosePod(full, nodes));
  });

  it("keep a Job's counts and retry limit, and drop its template", () => {
    const job = desiredJob(run);
    job.metadata = { ...job.metadata, managedFields };
    job.status = { active: 1, failed: 1 };
    const full = structuredClone(job);
    trimJob(job);
    expect(job.spec?.template).toEqual({});
    expect(job.metadata?.managedFields).toBeUndefined();
    expect(job.spec?.backoffLimit).toBe(2);
    const at = { children: new Map(), nodes, pods: [pendingPod()] };
    expect(jobState(job, at)).toEqual(jobState(full, at));
  });
});
