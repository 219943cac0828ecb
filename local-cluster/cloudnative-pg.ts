import { spawnSync } from 'node:child_process';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { Placement } from '../model/pools.js';
import { cloudNativePgReleaseConfig } from './toolchain.js';

/** Where the release installs the operator, which the platform's database policy lets in. */
export const CLOUDNATIVE_PG_NAMESPACE = 'cnpg-system';
export const CLOUDNATIVE_PG_DEPLOYMENT = 'cnpg-controller-manager';

type Container = {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  env?: { name: string; value?: string }[];
};
type Deployment = KubernetesObject & {
  spec: { template: { spec: { containers: Container[]; nodeSelector?: unknown; tolerations?: unknown } } };
};

/**
 * CloudNativePG as a user's own cluster has it: the release's install exactly as upstream renders it
 * (`kubectl kustomize` of its config/default: every CRD, the RBAC, the webhooks, whose certificates
 * the operator makes itself, and the Deployment), with the operator image built here and placed on
 * the core pool, whose real nodes hold that image.
 */
export function cloudNativePgInstall(kubectl: string, image: string, placement: Placement): KubernetesObject[] {
  const rendered = spawnSync(kubectl, ['kustomize', cloudNativePgReleaseConfig()], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (rendered.status !== 0) {
    throw new Error(`kubectl kustomize of CloudNativePG's release failed:\n${rendered.stderr}`);
  }
  const objects = parseAllDocuments(rendered.stdout)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
  for (const object of objects) {
    if (object.kind !== 'Deployment' || object.metadata?.name !== CLOUDNATIVE_PG_DEPLOYMENT) continue;
    const pod = (object as Deployment).spec.template.spec;
    pod.nodeSelector = placement.nodeSelector;
    pod.tolerations = placement.tolerations;
    for (const container of pod.containers) {
      container.image = image;
      // Nodes here have no registry to pull from; the image is loaded into them.
      container.imagePullPolicy = 'IfNotPresent';
      // The operator runs its own image in every Postgres pod to copy the instance manager in.
      for (const variable of container.env ?? []) if (variable.name === 'OPERATOR_IMAGE_NAME') variable.value = image;
    }
  }
  if (!objects.some((o) => o.kind === 'Deployment' && o.metadata?.name === CLOUDNATIVE_PG_DEPLOYMENT)) {
    throw new Error(`CloudNativePG's release has no Deployment ${CLOUDNATIVE_PG_DEPLOYMENT}`);
  }
  return objects;
}
