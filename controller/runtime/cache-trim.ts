import type { KubernetesObject, V1Deployment, V1Job, V1Pod } from '@kubernetes/client-node';

/**
 * What the informer caches keep of each object, in the manner of controller-runtime's cache
 * transforms. The controller reads its children's status and a pod's placement; it never reads a
 * template or managed fields back. Dropping them keeps the children of thousands of finished runs
 * from filling the heap. Each trim is its informer's transform: it runs before the object is cached.
 */
export function stripManagedFields(object: KubernetesObject): void {
  if (object.metadata) delete object.metadata.managedFields;
}

/** The controller made the template, and it is immutable: the status and counts are what it reads. */
export function trimJob(job: V1Job): void {
  stripManagedFields(job);
  if (job.spec) job.spec.template = {};
}

/** Its template is compared by the spec-hash annotation, never field by field. */
export function trimDeployment(deployment: V1Deployment): void {
  stripManagedFields(deployment);
  if (deployment.spec) deployment.spec.template = {};
}

/** Diagnosis reads where a pod may go and where it went, and its status; not its env or volumes. */
export function trimPod(pod: V1Pod): void {
  stripManagedFields(pod);
  const spec = pod.spec;
  if (!spec) return;
  pod.spec = {
    nodeName: spec.nodeName,
    nodeSelector: spec.nodeSelector,
    tolerations: spec.tolerations,
    affinity: spec.affinity,
    containers: spec.containers.map((c) => ({ name: c.name, image: c.image, resources: c.resources })),
  };
}
