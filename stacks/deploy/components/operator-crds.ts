import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parseAllDocuments } from 'yaml';
import { groupKind, registerObject, servedGroupKind, type KubernetesObject } from './kubernetes-objects.js';

const CRD_DIR = fileURLToPath(new URL('../operator-crds/', import.meta.url));

interface Crd extends KubernetesObject {
  readonly spec: { readonly group: string };
}

/** Every vendored upstream CRD (stacks/deploy/operator-crds). */
export function vendoredCrds(dir: string = CRD_DIR): Crd[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Crd))
    .filter((o) => o?.kind === 'CustomResourceDefinition');
}

/** The CRDs that serve the given objects' kinds. */
export function crdsFor(objects: readonly KubernetesObject[], crds: readonly Crd[] = vendoredCrds()): Crd[] {
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
