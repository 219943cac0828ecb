/** How an image reference is pinned: by digest, by a tag, or not at all. Used by config validation and the policies. */
export function imagePinning(image: string): { digest: boolean; tag: string | undefined } {
  const digest = /@sha256:[a-f0-9]{64}$/.test(image);
  const last = image.split('@')[0]?.split('/').pop() ?? '';
  return { digest, tag: last.includes(':') ? last.split(':').pop() : undefined };
}

/**
 * How every platform container pulls its image. Tags are hashes of the images' inputs, so a tag
 * a node already holds names the very image a registry would send, and the local cluster's nodes
 * have their images loaded and no registry to ask.
 */
export const PLATFORM_IMAGE_PULL_POLICY = 'IfNotPresent';
