import type { V1ContainerStatus, V1Node, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { GPU_RESOURCE } from '../../model/pools.js';
import { REASON } from '../api/reasons.js';
import type { RunPhase } from '../api/run.js';

/** What one pod says about a run: a phase and, unless all is well, why. */
export interface Diagnosis {
  readonly phase: RunPhase;
  readonly reason: string;
  readonly message: string;
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/** Names the scheduler's verdict: capacity first, then taints, then selectors. */
export function unschedulableReason(message: string): string {
  if (message.includes(`Insufficient ${GPU_RESOURCE}`)) return REASON.InsufficientGPU;
  if (message.includes('Insufficient cpu')) return REASON.InsufficientCPU;
  if (message.includes('Insufficient memory')) return REASON.InsufficientMemory;
  if (message.includes('untolerated taint')) return REASON.UntoleratedTaint;
  if (message.includes("didn't match Pod's node affinity/selector")) return REASON.NoMatchingNode;
  if (/persistentvolumeclaim "[^"]*" not found/.test(message)) return REASON.VolumeClaimNotFound;
  if (message.includes('unbound immediate PersistentVolumeClaims')) return REASON.VolumeClaimUnbound;
  return REASON.Unschedulable;
}

const UNSCHEDULABLE_HINT: Record<string, string> = {
  InsufficientGPU: `no node has enough free ${GPU_RESOURCE} for the pod`,
  InsufficientCPU: 'no node has enough free CPU for the pod',
  InsufficientMemory: 'no node has enough free memory for the pod',
  UntoleratedTaint: 'the pod does not tolerate the taints of the nodes it selects',
  NoMatchingNode: "no node matches the pod's node selector or affinity",
  VolumeClaimNotFound: "a volume claim the pod mounts does not exist in the run's namespace",
  VolumeClaimUnbound: 'a volume claim the pod mounts has no volume yet',
  Unschedulable: 'no node can take the pod',
};

function tolerates(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

function untoleratedTaints(pod: V1Pod, node: V1Node): V1Taint[] {
  return (node.spec?.taints ?? []).filter(
    (t) => t.effect !== 'PreferNoSchedule' && !(pod.spec?.tolerations ?? []).some((tol) => tolerates(tol, t)),
  );
}

const taintText = (t: V1Taint) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;

/**
 * The scheduler sums up each node's first failing check, so one message may blame taints on some
 * nodes and selectors on others. With the nodes at hand the real cause is plain: no node matches
 * the selector, or every node that matches carries a taint the pod does not tolerate.
 */
function placementProblem(pod: V1Pod, nodes: readonly V1Node[]): Diagnosis | undefined {
  const selector = pod.spec?.nodeSelector ?? {};
  const matching = nodes.filter((n) => Object.entries(selector).every(([k, v]) => n.metadata?.labels?.[k] === v));
  if (matching.length === 0) {
    const wanted = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return {
      phase: 'unschedulable',
      reason: REASON.NoMatchingNode,
      message: `no node has all of the labels the pod selects: ${wanted}`,
    };
  }
  const blocked = matching.map((n) => untoleratedTaints(pod, n));
  if (blocked.every((taints) => taints.length > 0)) {
    const names = matching.map((n) => n.metadata?.name).join(', ');
    const taints = [...new Set(blocked.flat().map(taintText))].join(', ');
    return {
      phase: 'unschedulable',
      reason: REASON.UntoleratedTaint,
      message: `the nodes the pod selects (${names}) carry taints it does not tolerate: ${taints}`,
    };
  }
  return undefined;
}

function statuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** Why a terminated pod ended, e.g. "container main was OOMKilled (exit code 137)". */
export function terminationSummary(pod: V1Pod): { reason: string; message: string } | undefined {
  for (const s of statuses(pod)) {
    const t = s.state?.terminated ?? s.lastState?.terminated;
    if (t && t.exitCode !== 0) {
      const reason = t.reason ?? 'Error';
      const hint = reason === 'OOMKilled' ? ': raise its memory limit' : '';
      return {
        reason,
        message: `container ${s.name} ${reason === 'OOMKilled' ? 'was OOMKilled' : `exited with code ${t.exitCode} (${reason})`}${hint}`,
      };
    }
  }
  return undefined;
}

/** What the kubelet said of a pod in FailedMount events, which its status never carries. */
export type MountFailureOf = (pod: V1Pod) => string | undefined;

/**
 * `mountFailure` is what the kubelet said in FailedMount events: a pod whose volume cannot be
 * mounted (a connection's missing Secret) says so nowhere in its status.
 */
export function diagnosePod(pod: V1Pod, nodes: readonly V1Node[] = [], mountFailure?: string): Diagnosis {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return { phase: 'succeeded', reason: REASON.Completed, message: 'the pod completed' };
  if (phase === 'Failed') {
    const t = terminationSummary(pod);
    return {
      phase: 'failed',
      reason: t?.reason ?? pod.status?.reason ?? REASON.Failed,
      message: t?.message ?? pod.status?.message ?? 'the pod failed',
    };
  }

  for (const s of statuses(pod)) {
    const waiting = s.state?.waiting;
    if (waiting?.reason && IMAGE_PULL.has(waiting.reason)) {
      return {
        phase: 'warning',
        reason: REASON.ImagePullError,
        message: `cannot pull image ${s.image}: ${waiting.message ?? waiting.reason}`,
      };
    }
    if (waiting?.reason === 'CrashLoopBackOff') {
      const last = s.lastState?.terminated;
      const cause = last?.reason === 'OOMKilled' ? 'OOMKilled' : `exit code ${last?.exitCode ?? '?'}`;
      return {
        phase: 'warning',
        reason: last?.reason === REASON.OOMKilled ? REASON.OOMKilled : REASON.CrashLoopBackOff,
        message: `container ${s.name} keeps crashing (${cause}); restarted ${s.restartCount} times`,
      };
    }
    if (waiting?.reason === 'CreateContainerConfigError' || waiting?.reason === 'CreateContainerError') {
      return {
        phase: 'warning',
        reason: waiting.reason,
        message: `container ${s.name}: ${waiting.message ?? waiting.reason}`,
      };
    }
  }

  if (phase === 'Pending' && pod.spec?.nodeName && mountFailure) {
    return { phase: 'warning', reason: REASON.MountFailed, message: `cannot mount the pod's volumes: ${mountFailure}` };
  }

  if (phase === 'Running') {
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready
      ? { phase: 'running', reason: REASON.Running, message: `running on ${pod.spec?.nodeName}` }
      : {
          phase: 'starting',
          reason: REASON.ContainersNotReady,
          message: `containers starting on ${pod.spec?.nodeName}`,
        };
  }

  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const placement = nodes.length > 0 ? placementProblem(pod, nodes) : undefined;
    if (placement) return placement;
    const reason = unschedulableReason(scheduled.message ?? '');
    return {
      phase: 'unschedulable',
      reason,
      message: `${UNSCHEDULABLE_HINT[reason]}: ${scheduled.message ?? ''}`.trim(),
    };
  }
  if (pod.spec?.nodeName) {
    return statuses(pod).length > 0
      ? { phase: 'starting', reason: REASON.ContainerCreating, message: `starting on ${pod.spec.nodeName}` }
      : { phase: 'scheduled', reason: REASON.Scheduled, message: `scheduled on ${pod.spec.nodeName}` };
  }
  return { phase: 'queued', reason: REASON.WaitingForScheduler, message: 'waiting for the scheduler to place the pod' };
}

/** Of several pods, the one that best explains the run: trouble first, then the least advanced. */
const SEVERITY: Record<string, number> = {
  failed: 0,
  unschedulable: 1,
  warning: 2,
  queued: 3,
  scheduled: 4,
  starting: 5,
  running: 6,
  succeeded: 7,
};

export function worstDiagnosis(
  pods: readonly V1Pod[],
  nodes: readonly V1Node[] = [],
  mountFailureOf?: MountFailureOf,
): Diagnosis | undefined {
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => diagnosePod(p, nodes, mountFailureOf?.(p)))
    .sort((a, b) => (SEVERITY[a.phase] ?? 9) - (SEVERITY[b.phase] ?? 9))[0];
}
