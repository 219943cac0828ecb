import { imagePinning } from '../../model/images.js';
import type { PolicyResource } from '../resource.js';
import type { Rule } from '../rule.js';
import { containersOf, podSpecOf, WORKLOAD_KINDS } from '../pod-spec.js';

const CATALOG_KINDS = ['ImageCatalog', 'ClusterImageCatalog'];

/**
 * The images a resource names, with their fields: a workload's containers, a CloudNativePG
 * Cluster's operand, or the operands of an image catalog.
 */
function imagesOf(r: PolicyResource): { image: string; field: string }[] {
  const pod = podSpecOf(r);
  if (pod)
    return containersOf(pod).map(({ container, path }) => ({ image: container.image ?? '', field: `${path}.image` }));
  if (r.kind === 'Cluster' && r.apiVersion?.startsWith('postgresql.cnpg.io/')) {
    // Without one, the operator runs the image it was released with, which moves with the operator alone.
    const image = (r.body['spec'] as { imageName?: string } | undefined)?.imageName;
    return image === undefined ? [] : [{ image, field: 'spec.imageName' }];
  }
  if (CATALOG_KINDS.includes(r.kind) && r.apiVersion?.startsWith('postgresql.cnpg.io/')) {
    // A catalog names the operand image of each major version its Clusters may run.
    const images = (r.body['spec'] as { images?: { image?: string }[] } | undefined)?.images ?? [];
    return images.map((entry, i) => ({ image: entry.image ?? '', field: `spec.images[${i}].image` }));
  }
  return [];
}

export const imageRules: Rule[] = [
  {
    id: 'image-pinned',
    severity: 'error',
    rationale: 'A moving tag deploys different code on every pull; production must pin a digest.',
    remediation: 'Use an exact tag, never latest; in production environments use image@sha256:<digest>.',
    kinds: [...WORKLOAD_KINDS, 'Cluster', ...CATALOG_KINDS],
    check(r, context) {
      const production = context.isProduction(context.environmentOf(r));
      return imagesOf(r).flatMap(({ image, field }) => {
        const { digest, tag } = imagePinning(image);
        if (digest) return [];
        if (!tag) return [{ field, message: `image "${image}" has no tag` }];
        if (tag === 'latest') return [{ field, message: `image "${image}" uses latest` }];
        if (production) return [{ field, message: `image "${image}" is not pinned by digest, as production requires` }];
        return [];
      });
    },
  },
];
