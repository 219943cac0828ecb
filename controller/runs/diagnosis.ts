import { PLATFORM_CONTAINER_PREFIX } from '../api/container.js';
import type { V1ContainerStatus, V1Node, V1Pod } from '@kubernetes/client-node';
import { REASON } from '../api/reasons.js';
import type { RunPhase } from '../api/run.js';
import { hasSelectedLabels, meetsRequiredNodeAffinity, taintText, untoleratedTaints } from './node-filters.js';
import { schedulerVerdict } from './scheduler-verdict.js';

/** What one pod says about a run: a phase and, unless all is well, why. */
export interface Diagnosis {
  readonly phase: RunPhase;
  readonly reason: string;
  readonly message: string;
}

const IMAGE_PULL = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

const labelsText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/**
 * The scheduler sums up each node's first failing check, so one message may blame taints on some
 * nodes and selectors on others. With the nodes at hand the real cause is plain: no node matches
 * the selector and affinity, or every node that matches carries a taint the pod does not tolerate.
 * Otherwise the pod may go somewhere, and what keeps it out is neither.
 */
function placementProblem(pod: V1Pod, nodes: readonly V1Node[]): Diagnosis | 'may-go-somewhere' {
  const labelled = nodes.filter((n) => hasSelectedLabels(pod, n));
  const selected = labelled.filter((n) => meetsRequiredNodeAffinity(pod, n));
  if (selected.length === 0) {
    const wanted = labelsText(pod.spec?.nodeSelector ?? {});
    return {
      phase: 'unschedulable',
      reason: REASON.NoMatchingNode,
      message:
        labelled.length === 0
          ? `no node has all of the labels the pod selects: ${wanted}`
          : `no node ${wanted ? `with the labels the pod selects (${wanted}) ` : ''}meets its required node affinity`,
    };
  }
  const blocked = selected.map((n) => untoleratedTaints(pod, n));
  if (blocked.every((taints) => taints.length > 0)) {
    const names = selected.map((n) => n.metadata?.name).join(', ');
    const taints = [...new Set(blocked.flat().map(taintText))].join(', ');
    return {
      phase: 'unschedulable',
      reason: REASON.UntoleratedTaint,
      message: `the nodes the pod selects (${names}) carry taints it does not tolerate: ${taints}`,
    };
  }
  return 'may-go-somewhere';
}

function statuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** Why a terminated pod ended, e.g. "container main was OOMKilled (exit code 137)". */
export function terminationSummary(pod: V1Pod): { reason: string; message: string } | undefined {
  // The run's own containers first: a sidecar stopped at their end (outputs-sync.ts) says nothing of why.
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    const t = s.state?.terminated ?? s.lastState?.terminated;
    if (t && t.exitCode !== 0) {
      const reason = t.reason ?? 'Error';
      const hint = reason === 'OOMKilled' ? ': raise its memory limit' : '';
      // The platform's own containers end with a word for the user (outputs-restore.ts); a run's own
      // termination message is its to use.
      const said = s.name.startsWith(PLATFORM_CONTAINER_PREFIX) && t.message ? `: ${t.message.trim()}` : '';
      return {
        reason,
        message: `container ${s.name} ${reason === 'OOMKilled' ? 'was OOMKilled' : `exited with code ${t.exitCode} (${reason})`}${hint}${said}`,
      };
    }
  }
  return undefined;
}

/** The cluster autoscaler's event reasons on a pod it was asked to find a node for. */
export const AUTOSCALER_EVENT = { scaleUp: 'TriggeredScaleUp', noScaleUp: 'NotTriggerScaleUp' } as const;

/** What others said of a pod in events, which its status never carries. */
export interface PodEvents {
  /** The kubelet's latest FailedMount message: a volume cannot be mounted (a connection's missing Secret). */
  readonly mountFailure?: string;
  /** The cluster autoscaler's latest word on the pod, where one runs: adding a node for it, or not. */
  readonly autoscaler?: { readonly reason: string; readonly message: string };
}

export type PodEventsOf = (pod: V1Pod) => PodEvents;

export function diagnosePod(pod: V1Pod, nodes: readonly V1Node[] = [], events: PodEvents = {}): Diagnosis {
  const { mountFailure, autoscaler } = events;
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
    // A pool scaled to zero has no node to match: the autoscaler adding one is the news, not that.
    if (autoscaler?.reason === AUTOSCALER_EVENT.scaleUp) {
      return {
        phase: 'queued',
        reason: REASON.NodeProvisioning,
        message: `waiting for a new node: the cluster autoscaler says ${autoscaler.message}`,
      };
    }
    const refused =
      autoscaler?.reason === AUTOSCALER_EVENT.noScaleUp
        ? `; the cluster autoscaler will not add a node: ${autoscaler.message}`
        : '';
    // Without nodes at hand (none, or the cache not synced yet), the message is all there is.
    const placement = nodes.length > 0 ? placementProblem(pod, nodes) : undefined;
    if (placement && placement !== 'may-go-somewhere') return { ...placement, message: placement.message + refused };
    const { reason, hint } = schedulerVerdict(scheduled.message ?? '', placement === 'may-go-somewhere');
    return { phase: 'unschedulable', reason, message: `${hint}: ${scheduled.message ?? ''}`.trim() + refused };
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
  eventsOf?: PodEventsOf,
): Diagnosis | undefined {
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => diagnosePod(p, nodes, eventsOf?.(p)))
    .sort((a, b) => (SEVERITY[a.phase] ?? 9) - (SEVERITY[b.phase] ?? 9))[0];
}
