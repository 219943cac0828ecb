import { describe, expect, it } from 'vitest';
import { schedulerVerdict } from '../../../controller/runs/scheduler-verdict.js';

/**
 * Messages as the Kubernetes 1.34 scheduler wrote them on the local control plane (six or seven
 * kwok nodes: two core and two GPU nodes tainted, two or three CPU nodes), each for a pod on the
 * CPU or GPU pool that nothing but the named cause kept out.
 */
const SEEN = {
  blockedByAntiAffinity:
    "0/6 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.",
  blockedByAntiAffinityOnGpu:
    "0/6 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't satisfy existing pods anti-affinity rules, 2 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.",
  ownAffinity:
    "0/6 nodes are available: 2 node(s) didn't match pod affinity rules, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.",
  ownAntiAffinity:
    "0/6 nodes are available: 2 node(s) didn't match pod anti-affinity rules, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.",
  tooManyPods:
    "0/7 nodes are available: 1 Too many pods, 2 node(s) didn't match Pod's node affinity/selector, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/7 nodes are available: 1 No preemption victims found for incoming pod, 6 Preemption is not helpful for scheduling.",
  cpuAndTooManyPods:
    "0/7 nodes are available: 1 Insufficient cpu, 1 Too many pods, 2 node(s) didn't match Pod's node affinity/selector, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/7 nodes are available: 7 Preemption is not helpful for scheduling.",
  topologySpread:
    "0/7 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't match pod topology spread constraints (missing required label), 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/7 nodes are available: 7 Preemption is not helpful for scheduling.",
  insufficientGpu:
    "0/7 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint(s), 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/7 nodes are available: 7 Preemption is not helpful for scheduling.",
  insufficientMemory:
    "0/7 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient memory, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/7 nodes are available: 7 Preemption is not helpful for scheduling.",
  // A GPU pod without the GPU toleration; a pod selecting a pool no node has says the same.
  taintOrSelector:
    "0/7 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 4 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/7 nodes are available: 7 Preemption is not helpful for scheduling.",
  claimNotFound: '0/7 nodes are available: persistentvolumeclaim "datasets" not found. not found',
} as const;

describe('schedulerVerdict', () => {
  it.each([
    ['blockedByAntiAffinity', 'BlockedByAntiAffinity'],
    ['blockedByAntiAffinityOnGpu', 'BlockedByAntiAffinity'],
    ['ownAffinity', 'PodAffinityConflict'],
    ['ownAntiAffinity', 'PodAffinityConflict'],
    ['tooManyPods', 'NodePodsFull'],
    ['cpuAndTooManyPods', 'InsufficientCPU'],
    ['topologySpread', 'Unschedulable'],
    ['insufficientGpu', 'InsufficientGPU'],
    ['insufficientMemory', 'InsufficientMemory'],
    ['taintOrSelector', 'UntoleratedTaint'],
    ['claimNotFound', 'VolumeClaimNotFound'],
  ] as const)('names %s as %s, above the taints and selectors of other pools', (seen, reason) => {
    expect(schedulerVerdict(SEEN[seen]).reason).toBe(reason);
  });

  it.each([
    ['0/6 nodes are available: 6 Insufficient cpu.', 'InsufficientCPU'],
    ["0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector.", 'NoMatchingNode'],
    ['0/6 nodes are available: 6 node(s) had untolerated taint(s).', 'UntoleratedTaint'],
    ['0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims.', 'VolumeClaimUnbound'],
    ['0/6 nodes are available: 6 node(s) had no available disk.', 'Unschedulable'],
  ])('names %s as %s', (message, reason) => {
    expect(schedulerVerdict(message).reason).toBe(reason);
  });

  it('says whose affinity keeps the pod out: another pod, its own affinity or its own anti-affinity', () => {
    expect(schedulerVerdict(SEEN.blockedByAntiAffinity).hint).toBe(
      "another pod's required anti-affinity keeps the pod off the nodes it may go to",
    );
    expect(schedulerVerdict(SEEN.ownAffinity).hint).toBe(
      'no node the pod may go to is near the pods its required pod affinity asks for',
    );
    expect(schedulerVerdict(SEEN.ownAntiAffinity).hint).toBe(
      'every node the pod may go to is near a pod its required pod anti-affinity keeps it away from',
    );
  });

  it('never blames a taint or a selector once the nodes show the pod may go somewhere', () => {
    expect(schedulerVerdict(SEEN.taintOrSelector, true)).toEqual({
      reason: 'Unschedulable',
      hint: 'no node can take the pod',
    });
    expect(schedulerVerdict(SEEN.blockedByAntiAffinityOnGpu, true).reason).toBe('BlockedByAntiAffinity');
  });

  it("reads the filters' tally, not the preemption's", () => {
    const message =
      '0/2 nodes are available: 2 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 2 Insufficient cpu.';
    expect(schedulerVerdict(message).reason).toBe('UntoleratedTaint');
  });
});
