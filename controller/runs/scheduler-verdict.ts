import { GPU_RESOURCE } from '../../model/pools.js';
import { REASON, type RunReason } from '../api/reasons.js';

/**
 * The scheduler's FailedScheduling message counts, per reason, the nodes that failed it:
 * `0/6 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules, 4 node(s)
 * had untolerated taint(s). ...`. Each node counts under the first filter it fails, and the filters
 * run in a fixed order (TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, the volume
 * filters, PodTopologySpread, InterPodAffinity), so every reason after taints and selectors is about
 * the nodes the pod may go to, and the taints and selectors are often about the other pools only.
 * The wording is the Kubernetes 1.34 scheduler's (pkg/scheduler/framework/plugins).
 */
interface Blocker {
  readonly says: string | RegExp;
  readonly reason: RunReason;
  /** What the status message says before the scheduler's own message. */
  readonly hint: string;
  /** A taint or a selector, which concerns nodes the pod may not go to whenever it may go to some. */
  readonly placement?: true;
}

/** In the order a run's status names them: capacity first, then what else fills or guards the nodes. */
const BLOCKERS: readonly Blocker[] = [
  {
    says: `Insufficient ${GPU_RESOURCE}`,
    reason: REASON.InsufficientGPU,
    hint: `no node has enough free ${GPU_RESOURCE} for the pod`,
  },
  { says: 'Insufficient cpu', reason: REASON.InsufficientCPU, hint: 'no node has enough free CPU for the pod' },
  {
    says: 'Insufficient memory',
    reason: REASON.InsufficientMemory,
    hint: 'no node has enough free memory for the pod',
  },
  {
    says: 'Too many pods',
    reason: REASON.NodePodsFull,
    hint: 'the nodes the pod may go to hold as many pods as they allow, whatever CPU, memory or GPUs they have free',
  },
  {
    says: "didn't satisfy existing pods anti-affinity rules",
    reason: REASON.BlockedByAntiAffinity,
    hint: "another pod's required anti-affinity keeps the pod off the nodes it may go to",
  },
  {
    says: "didn't match pod affinity rules",
    reason: REASON.PodAffinityConflict,
    hint: 'no node the pod may go to is near the pods its required pod affinity asks for',
  },
  {
    says: "didn't match pod anti-affinity rules",
    reason: REASON.PodAffinityConflict,
    hint: 'every node the pod may go to is near a pod its required pod anti-affinity keeps it away from',
  },
  {
    says: "didn't match pod topology spread constraints",
    reason: REASON.Unschedulable,
    hint: "the pod's topology spread constraints rule out every node it may go to",
  },
  {
    says: /persistentvolumeclaim "[^"]*" not found/,
    reason: REASON.VolumeClaimNotFound,
    hint: "a volume claim the pod mounts does not exist in the run's namespace",
  },
  {
    says: 'unbound immediate PersistentVolumeClaims',
    reason: REASON.VolumeClaimUnbound,
    hint: 'a volume claim the pod mounts has no volume yet',
  },
  {
    says: 'untolerated taint',
    reason: REASON.UntoleratedTaint,
    hint: 'the pod does not tolerate the taints of the nodes it selects',
    placement: true,
  },
  {
    says: "didn't match Pod's node affinity/selector",
    reason: REASON.NoMatchingNode,
    hint: "no node matches the pod's node selector or affinity",
    placement: true,
  },
];

const UNKNOWN = { reason: REASON.Unschedulable, hint: 'no node can take the pod' } as const;

export interface SchedulerVerdict {
  readonly reason: RunReason;
  readonly hint: string;
}

/**
 * Names the scheduler's verdict. `mayGoSomewhere`: the nodes at hand show that some node matches
 * the pod's selector and affinity and carries no taint it does not tolerate, so the message's
 * taints and selectors are about other nodes and cannot be why the pod waits.
 */
export function schedulerVerdict(message: string, mayGoSomewhere = false): SchedulerVerdict {
  // What follows `preemption:` is the preemption's own tally, not why the pod did not fit.
  const [filters = ''] = message.split('preemption:');
  const blocker = BLOCKERS.find(
    (b) =>
      !(mayGoSomewhere && b.placement) &&
      (typeof b.says === 'string' ? filters.includes(b.says) : b.says.test(filters)),
  );
  return blocker ? { reason: blocker.reason, hint: blocker.hint } : UNKNOWN;
}
