import type { V1Pod } from '@kubernetes/client-node';

/**
 * Which containers a read of a run's logs covers, and in which order: every container the archive
 * holds a log of (`<pod>/<container>/<chunk>` under the run's prefix) and every container of the
 * run's pods that exist now, narrowed to the pod and container asked for.
 */

export interface RunLogTarget {
  readonly pod: string;
  readonly container: string;
  /**
   * When its log starts: its first archived line's time, or else its pod's creation (a container
   * that has printed nothing yet). Pods are ordered by their earliest.
   */
  readonly since: string;
  /** Its place in its pod, init containers first; 0 for a pod known from the archive only. */
  readonly place: number;
}

/** A key under the run's log prefix, as pod and container; undefined for anything else. */
export function archivedContainer(relativeKey: string): { pod: string; container: string } | undefined {
  const match = /^([^/]+)\/([^/]+)\/\d+-\d+\.log$/.exec(relativeKey);
  return match ? { pod: match[1] as string, container: match[2] as string } : undefined;
}

/** A pod's containers in the order they start: init containers (platform steps among them) first. */
export const podContainers = (pod: V1Pod): string[] => [
  ...(pod.spec?.initContainers ?? []).map((c) => c.name),
  ...(pod.spec?.containers ?? []).map((c) => c.name),
];

/** An API time (`2026-12-07T10:00:00Z`) written as the kubelet stamps lines, so that the two sort together. */
export const asLineTime = (time: Date | string | undefined): string =>
  time ? new Date(time).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z') : '';

/**
 * The targets of a read, in the order their logs start. `firstLineTime` gives an archived
 * container's first line time, if its archive has one.
 */
export function runLogTargets(
  archived: readonly { pod: string; container: string }[],
  pods: readonly V1Pod[],
  firstLineTime: (pod: string, container: string) => string | undefined,
  only: { pod?: string; container?: string },
): RunLogTarget[] {
  const targets = new Map<string, RunLogTarget>();
  const add = (pod: string, container: string, fallback: string, place: number) => {
    if (only.pod !== undefined && pod !== only.pod) return;
    if (only.container !== undefined && container !== only.container) return;
    const key = `${pod}/${container}`;
    if (!targets.has(key))
      targets.set(key, { pod, container, since: firstLineTime(pod, container) ?? fallback, place });
  };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    podContainers(pod).forEach((container, place) =>
      add(name, container, asLineTime(pod.metadata?.creationTimestamp), place),
    );
  }
  // A pod that is gone is known from its archive only; its containers are ordered by their first line.
  for (const { pod, container } of archived) add(pod, container, '', 0);
  // Pods in the order they started, each pod's containers in theirs.
  const podSince = new Map<string, string>();
  for (const t of targets.values()) {
    const since = podSince.get(t.pod);
    if (since === undefined || t.since < since) podSince.set(t.pod, t.since);
  }
  const startOf = (t: RunLogTarget) => podSince.get(t.pod) ?? '';
  return [...targets.values()].sort(
    (a, b) =>
      startOf(a).localeCompare(startOf(b)) ||
      a.pod.localeCompare(b.pod) ||
      a.place - b.place ||
      a.since.localeCompare(b.since) ||
      a.container.localeCompare(b.container),
  );
}

/** What a run holds, for an error that says what a read could have asked for. */
export function describeTargets(
  archived: readonly { pod: string; container: string }[],
  pods: readonly V1Pod[],
): string {
  const all = runLogTargets(archived, pods, () => undefined, {}).map((t) => `${t.pod}/${t.container}`);
  return all.length > 0 ? all.join(', ') : 'none yet';
}
