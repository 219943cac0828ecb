import * as pulumi from '@pulumi/pulumi';
import { crdsIn, type Crd } from '../crd-files.js';
import { groupKind, registerObject, servedGroupKind, type KubernetesObject } from './kubernetes-objects.js';

/** The CRDs that serve the given objects' kinds. */
export function crdsFor(objects: readonly KubernetesObject[], crds: readonly Crd[] = crdsIn()): Crd[] {
  const used = new Set(objects.map((o) => groupKind(o.apiVersion, o.kind)));
  return crds.filter((crd) => used.has(servedGroupKind(crd)));
}

export interface OperatorCrdsArgs {
  /** The chart's objects: only the CRDs their kinds need are installed. */
  readonly objects: readonly KubernetesObject[];
  /** API groups whose CRDs something else installs (an operator's Helm release). */
  readonly skipGroups?: readonly string[];
}

/** The upstream operators' CRDs that the platform's custom resources need. */
export class OperatorCrds extends pulumi.ComponentResource {
  readonly resources: pulumi.CustomResource[];
  readonly names: string[];

  constructor(name: string, args: OperatorCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:OperatorCrds', name, {}, opts);
    const crds = crdsFor(args.objects).filter((crd) => !args.skipGroups?.includes(crd.spec.group));
    this.names = crds.map((crd) => crd.metadata.name);
    this.resources = crds.map((crd) => registerObject(crd, { parent: this }));
    this.registerOutputs({ names: this.names });
  }
}
