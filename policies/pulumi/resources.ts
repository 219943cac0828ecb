import { fromManifest, type PolicyResource } from '../resource.js';

/** A resource as a Pulumi policy pack sees it during preview or update. */
export interface PulumiResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
  readonly dependencies?: readonly { readonly urn: string }[];
}

/**
 * Kubernetes resources are checked as the manifests they are (their inputs are the object);
 * cloud resources by their Pulumi type, with their URN and dependencies for cross-resource rules.
 */
export function fromPulumi(resource: PulumiResource): PolicyResource {
  if (resource.type.startsWith('kubernetes:') && typeof resource.props['kind'] === 'string') {
    return { ...fromManifest(resource.props), urn: resource.urn };
  }
  return {
    kind: resource.type,
    name: resource.name,
    labels: {},
    annotations: {},
    body: resource.props,
    urn: resource.urn,
    dependencies: (resource.dependencies ?? []).map((d) => d.urn),
  };
}
