/**
 * What the rules see: a Kubernetes object from a manifest, or a resource from a Pulumi program
 * (Kubernetes objects in the same shape; cloud resources by their Pulumi type token).
 */
export interface PolicyResource {
  /** Kubernetes kind (`Deployment`) or Pulumi type (`aws:rds/instance:Instance`). */
  readonly kind: string;
  readonly apiVersion?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** The whole object (Kubernetes) or the resource's inputs (Pulumi). */
  readonly body: Record<string, unknown>;
  /** Pulumi URN and the URNs it depends on, for rules that relate cloud resources. */
  readonly urn?: string;
  readonly dependencies?: readonly string[];
  /** Where it was read from, for messages and SARIF locations. */
  readonly source?: { readonly file: string; readonly line: number };
}

export function describeResource(r: PolicyResource): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** A Kubernetes manifest object as a PolicyResource. */
export function fromManifest(object: Record<string, unknown>, source?: PolicyResource['source']): PolicyResource {
  const metadata = (object['metadata'] ?? {}) as {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  return {
    kind: String(object['kind'] ?? ''),
    apiVersion: object['apiVersion'] as string | undefined,
    name: metadata.name ?? '(unnamed)',
    namespace: metadata.namespace,
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    body: object,
    source,
  };
}
