import type { V1Pod } from '@kubernetes/client-node';

/** A run's pods, the newest first: a retry's pod says how the run goes now, an earlier attempt's what it did. */
export function newestFirst(pods: readonly V1Pod[]): V1Pod[] {
  const created = (pod: V1Pod) => new Date(String(pod.metadata?.creationTimestamp ?? 0)).getTime();
  return [...pods].sort((a, b) => created(b) - created(a));
}
