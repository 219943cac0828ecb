import { imagePinning } from '../../model/images.js';
import type { Rule } from '../rule.js';
import { containersOf, workloadRule } from '../pod-spec.js';

export const imageRules: Rule[] = [
  workloadRule({
    id: 'image-pinned',
    severity: 'error',
    rationale: 'A moving tag deploys different code on every pull; production must pin a digest.',
    remediation: 'Use an exact tag, never latest; in production environments use image@sha256:<digest>.',
    check(pod, r, context) {
      const production = context.isProduction(context.environmentOf(r));
      return containersOf(pod).flatMap(({ container, path }) => {
        const image = container.image ?? '';
        const field = `${path}.image`;
        const { digest, tag } = imagePinning(image);
        if (digest) return [];
        if (!tag) return [{ field, message: `image "${image}" has no tag` }];
        if (tag === 'latest') return [{ field, message: `image "${image}" uses latest` }];
        if (production) return [{ field, message: `image "${image}" is not pinned by digest, as production requires` }];
        return [];
      });
    },
  }),
];
