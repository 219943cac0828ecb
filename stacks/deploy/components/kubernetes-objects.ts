import * as pulumi from '@pulumi/pulumi';

/** A Kubernetes object as the constructs render it. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/**
 * The provider's type token for an object: `kubernetes:<group>/<version>:<Kind>`, where the core
 * group is written `core` (`v1` Secret → `kubernetes:core/v1:Secret`). The same token the typed
 * @pulumi/kubernetes classes use, so the provider diffs and awaits each kind as it knows it.
 */
export function resourceToken(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion.includes('/') ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

/** Unique within a chart: `<Kind>/<namespace>/<name>`, or `<Kind>/<name>` for cluster-scoped objects. */
export function resourceName(object: KubernetesObject): string {
  const { name, namespace } = object.metadata;
  return namespace ? `${object.kind}/${namespace}/${name}` : `${object.kind}/${name}`;
}

/** `<group>/<Kind>` of an object's type (the core group is empty): the key a CRD serves. */
export function groupKind(apiVersion: string, kind: string): string {
  return `${apiVersion.includes('/') ? apiVersion.split('/')[0] : ''}/${kind}`;
}

/** `<group>/<Kind>` that a CustomResourceDefinition serves. */
export function servedGroupKind(crd: KubernetesObject): string {
  const spec = crd['spec'] as { group: string; names: { kind: string } };
  return `${spec.group}/${spec.names.kind}`;
}

/** Objects the provider must create before anything that lives in them or is of their kind. */
export function isFoundation(object: KubernetesObject): boolean {
  return object.kind === 'Namespace' || object.kind === 'CustomResourceDefinition';
}

/** Fields the provider reports back that hold secret material. */
const SECRET_OUTPUTS: Record<string, string[]> = { Secret: ['data', 'stringData'] };

/** Any Kubernetes object, typed by its token rather than by a generated class. */
class KubernetesResource extends pulumi.CustomResource {}

/** Registers one object as a resource of its own kind. */
export function registerObject(object: KubernetesObject, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
  const additionalSecretOutputs = SECRET_OUTPUTS[object.kind];
  return new KubernetesResource(resourceToken(object.apiVersion, object.kind), resourceName(object), object, {
    ...opts,
    ...(additionalSecretOutputs ? { additionalSecretOutputs } : {}),
  });
}
