import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { RunStatus } from '../api/run.js';
import { PLATFORM_CONTAINER_PREFIX } from '../api/container.js';
import { newestFirst } from './pod-order.js';

export type RanImage = NonNullable<RunStatus['images']>[number];

/**
 * Exactly what ran (README, Reproducibility): each of the run's own containers, init ones
 * included, with the image the kubelet ran by its id, whatever tag the run asked for. From the
 * newest pod whose containers have started; the platform's own steps are not the run's.
 */
export function ranImages(pods: readonly V1Pod[]): RanImage[] {
  for (const pod of newestFirst(pods)) {
    const statuses: V1ContainerStatus[] = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ];
    const ran = statuses
      .filter((s) => !s.name.startsWith(PLATFORM_CONTAINER_PREFIX) && s.imageID)
      .map((s) => ({ container: s.name, image: s.image, imageID: s.imageID }));
    if (ran.length > 0) return ran;
  }
  return [];
}
