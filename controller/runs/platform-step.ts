import type { V1Container } from '@kubernetes/client-node';
import { PLATFORM_IMAGE_PULL_POLICY } from '../../model/images.js';
import type { PlatformDefaults } from '../api/platform-defaults.js';

/**
 * A container of the platform's own in a run pod (the network gate, the outputs sidecar, the
 * restore step): a Python script in the `init` image, under the run containers' security floor.
 * What differs from one step to the next (env, mounts, resources) is given beside the script.
 */
export function platformStep(
  defaults: PlatformDefaults,
  name: string,
  script: string,
  rest: Omit<V1Container, 'name' | 'image' | 'command'> & { readonly args?: readonly string[] } = {},
): V1Container {
  const { args = [], ...fields } = rest;
  return {
    name,
    image: defaults.initImage,
    imagePullPolicy: PLATFORM_IMAGE_PULL_POLICY,
    command: ['python3', '-c', script, ...args],
    ...fields,
    securityContext: defaults.containerSecurityContext,
  };
}
