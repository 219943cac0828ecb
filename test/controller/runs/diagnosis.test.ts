import { describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { diagnosePod, terminationSummary } from '../../../controller/runs/diagnosis.js';

const node = (name: string, pool: string, taints: V1Node['spec'] = {}): V1Node => ({
  metadata: { name, labels: { 'plinth.dev/pool': pool } },
  spec: taints,
});
const nodes = [
  node('cpu-0', 'cpu'),
  node('gpu-0', 'gpu', { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] }),
];

function pending(message: string, spec: V1Pod['spec'] = { containers: [] }): V1Pod {
  return {
    spec,
    status: {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
    },
  };
}

describe('diagnosePod', () => {
  it.each([
    ['0/6 nodes are available: 2 Insufficient nvidia.com/gpu, 4 node(s) had untolerated taint(s).', 'InsufficientGPU'],
    ['0/6 nodes are available: 6 node(s) had untolerated taint(s).', 'UntoleratedTaint'],
    ['0/6 nodes are available: persistentvolumeclaim "datasets" not found.', 'VolumeClaimNotFound'],
  ])('without nodes at hand, names the scheduler verdict %s', (message, reason) => {
    expect(diagnosePod(pending(message))).toMatchObject({ phase: 'unschedulable', reason });
  });

  // As the scheduler said it of a CPU-pool pod that another pod's required anti-affinity selects.
  const blockade =
    "0/6 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.";

  it("names another pod's anti-affinity, not the other pools' taints, as what keeps the pod out", () => {
    const pod = pending(blockade, { containers: [], nodeSelector: { 'plinth.dev/pool': 'cpu' } });
    expect(diagnosePod(pod, nodes)).toEqual({
      phase: 'unschedulable',
      reason: 'BlockedByAntiAffinity',
      message: `another pod's required anti-affinity keeps the pod off the nodes it may go to: ${blockade}`,
    });
  });

  it('never reports a taint that the nodes the pod may go to do not carry', () => {
    const stale = '0/2 nodes are available: 1 node(s) had untolerated taint(s), 1 Too many pods.';
    const cpu = pending(stale, { containers: [], nodeSelector: { 'plinth.dev/pool': 'cpu' } });
    expect(diagnosePod(cpu, nodes).reason).toBe('NodePodsFull');
    const onlyTaints = pending('0/2 nodes are available: 2 node(s) had untolerated taint(s).', {
      containers: [],
      nodeSelector: { 'plinth.dev/pool': 'gpu' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(diagnosePod(onlyTaints, nodes)).toMatchObject({ phase: 'unschedulable', reason: 'Unschedulable' });
  });

  it("blames the pod's required node affinity when no node with its labels meets it", () => {
    const pod = pending("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector", {
      containers: [],
      nodeSelector: { 'plinth.dev/pool': 'cpu' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['cpu-9'] }] }],
          },
        },
      },
    });
    expect(diagnosePod(pod, nodes)).toEqual({
      phase: 'unschedulable',
      reason: 'NoMatchingNode',
      message: 'no node with the labels the pod selects (plinth.dev/pool=cpu) meets its required node affinity',
    });
  });

  it('blames the taint when the only nodes that match carry one the pod does not tolerate', () => {
    const pod = pending("0/2 nodes are available: 1 node(s) had untolerated taint(s), 1 didn't match selector", {
      containers: [],
      nodeSelector: { 'plinth.dev/pool': 'gpu' },
    });
    expect(diagnosePod(pod, nodes)).toEqual({
      phase: 'unschedulable',
      reason: 'UntoleratedTaint',
      message: 'the nodes the pod selects (gpu-0) carry taints it does not tolerate: nvidia.com/gpu=present:NoSchedule',
    });
  });

  it('blames the selector when no node has the labels', () => {
    const pod = pending('0/2 nodes are available', { containers: [], nodeSelector: { 'plinth.dev/pool': 'tpu' } });
    expect(diagnosePod(pod, nodes)).toMatchObject({
      reason: 'NoMatchingNode',
      message: 'no node has all of the labels the pod selects: plinth.dev/pool=tpu',
    });
  });

  it('reports image pull failures as a warning naming the image', () => {
    const pod: V1Pod = {
      spec: { containers: [], nodeName: 'cpu-0' },
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'main',
            image: 'ghcr.io/x/y:1',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } },
          },
        ],
      },
    };
    expect(diagnosePod(pod)).toEqual({
      phase: 'warning',
      reason: 'ImagePullError',
      message: 'cannot pull image ghcr.io/x/y:1: not found',
    });
  });

  it('reports a crash loop with the OOM that caused it', () => {
    const pod: V1Pod = {
      spec: { containers: [], nodeName: 'cpu-0' },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'main',
            image: 'x:1',
            imageID: '',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
          },
        ],
      },
    };
    expect(diagnosePod(pod)).toEqual({
      phase: 'warning',
      reason: 'OOMKilled',
      message: 'container main keeps crashing (OOMKilled); restarted 4 times',
    });
  });

  it('never calls a pod running before it is', () => {
    expect(diagnosePod({ spec: { containers: [] }, status: { phase: 'Pending' } }).phase).toBe('queued');
    expect(diagnosePod({ spec: { containers: [], nodeName: 'cpu-0' }, status: { phase: 'Pending' } }).phase).toBe(
      'scheduled',
    );
    expect(
      diagnosePod({
        spec: { containers: [], nodeName: 'cpu-0' },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] },
      }).phase,
    ).toBe('starting');
  });

  it('reports a volume the kubelet cannot mount while the pod waits on its node, but not once it runs', () => {
    const failure = 'MountVolume.SetUp failed for volume "conn-git-secret" : secret "git-credentials" not found';
    const pod = (phase: string): V1Pod => ({
      metadata: { name: 'clone-abc' },
      spec: { nodeName: 'cpu-0', containers: [] },
      status: { phase },
    });
    expect(diagnosePod(pod('Pending'), nodes, { mountFailure: failure })).toEqual({
      phase: 'warning',
      reason: 'MountFailed',
      message: `cannot mount the pod's volumes: ${failure}`,
    });
    expect(diagnosePod(pod('Pending'), nodes).reason).toBe('Scheduled');
    expect(diagnosePod(pod('Running'), nodes, { mountFailure: failure }).reason).not.toBe('MountFailed');
  });

  describe('with the cluster autoscaler', () => {
    // A GPU run whose pool is at zero nodes: no node at hand has its labels.
    const scaledToZero = pending("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.", {
      containers: [],
      nodeSelector: { 'plinth.dev/pool': 'gpu-a100' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    const scaleUp = 'pod triggered scale-up: [{eks-plinth-aws-prod-gpu-a100-20c9a3f1 0->1 (max: 4)}]';
    const noScaleUp =
      "pod didn't trigger scale-up: 3 node(s) didn't match Pod's node affinity/selector, 1 max node group size reached";

    it('says a run waits for a node being added, not that no node matches', () => {
      expect(diagnosePod(scaledToZero, nodes)).toMatchObject({ phase: 'unschedulable', reason: 'NoMatchingNode' });
      expect(
        diagnosePod(scaledToZero, nodes, { autoscaler: { reason: 'TriggeredScaleUp', message: scaleUp } }),
      ).toEqual({
        phase: 'queued',
        reason: 'NodeProvisioning',
        message: `waiting for a new node: the cluster autoscaler says ${scaleUp}`,
      });
    });

    it("keeps the scheduler's reason where the autoscaler will add no node, with its word appended", () => {
      const refused = { autoscaler: { reason: 'NotTriggerScaleUp', message: noScaleUp } };
      expect(diagnosePod(scaledToZero, nodes, refused)).toEqual({
        phase: 'unschedulable',
        reason: 'NoMatchingNode',
        message: `no node has all of the labels the pod selects: plinth.dev/pool=gpu-a100; the cluster autoscaler will not add a node: ${noScaleUp}`,
      });
      const full = pending(
        '0/6 nodes are available: 2 Insufficient nvidia.com/gpu, 4 node(s) had untolerated taint(s).',
      );
      expect(diagnosePod(full, [], refused)).toMatchObject({
        phase: 'unschedulable',
        reason: 'InsufficientGPU',
        message: expect.stringMatching(/; the cluster autoscaler will not add a node: pod didn't trigger scale-up/),
      });
    });

    it('forgets a scale-up once the pod is on its node', () => {
      const scheduled: V1Pod = { spec: { containers: [], nodeName: 'gpu-a100-0' }, status: { phase: 'Pending' } };
      expect(
        diagnosePod(scheduled, nodes, { autoscaler: { reason: 'TriggeredScaleUp', message: scaleUp } }).reason,
      ).toBe('Scheduled');
    });
  });
});

describe('terminationSummary', () => {
  const ended = (name: string, exitCode: number, extra: object = {}) => ({
    name,
    image: 'i',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason: 'Error', ...extra } },
  });

  it("names the run's own container, not the outputs sidecar stopped at its end", () => {
    const pod: V1Pod = {
      status: {
        initContainerStatuses: [ended('plinth-network', 0), ended('plinth-outputs', 143)],
        containerStatuses: [ended('main', 3)],
      },
    };
    expect(terminationSummary(pod)).toEqual({ reason: 'Error', message: 'container main exited with code 3 (Error)' });
  });

  it("gives a platform step's last words, and never a run container's own termination message", () => {
    const restore: V1Pod = {
      status: { initContainerStatuses: [ended('plinth-restore', 1, { message: 'no outputs at s3://b/p\n' })] },
    };
    expect(terminationSummary(restore)?.message).toBe(
      'container plinth-restore exited with code 1 (Error): no outputs at s3://b/p',
    );
    const own: V1Pod = { status: { containerStatuses: [ended('main', 1, { message: '{"loss": 0.1}' })] } };
    expect(terminationSummary(own)?.message).toBe('container main exited with code 1 (Error)');
  });
});
