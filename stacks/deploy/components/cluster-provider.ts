import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';

/**
 * The Kubernetes provider for the platform's cluster. ConfigMaps and Secrets are updated in place,
 * as `kubectl apply` of the synthesized manifests would: the provider's default replaces them on
 * every change, which would delete the controller's config for a moment on each quota change.
 */
export function clusterProvider(
  name: string,
  target: { context?: string; kubeconfig?: pulumi.Input<string> },
  opts?: pulumi.ResourceOptions,
): k8s.Provider {
  return new k8s.Provider(
    name,
    { ...target, enableServerSideApply: true, enableConfigMapMutable: true, enableSecretMutable: true },
    opts,
  );
}
