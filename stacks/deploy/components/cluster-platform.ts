import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { renderPlatform } from '../../../constructs/platform.js';
import type { KubernetesObject } from './kubernetes-objects.js';
import { OperatorCrds } from './operator-crds.js';
import { PlatformChart } from './platform-chart.js';
import { PlatformSecret, type PlatformSecretSpec } from './platform-secret.js';

export interface ClusterPlatformArgs {
  readonly config: PlatformConfig;
  readonly awaitIngress: boolean;
  /** Secrets the chart refers to, with values from Pulumi secrets or cloud outputs. */
  readonly secrets?: readonly PlatformSecretSpec[];
  /** CRD groups an operator's Helm release installs itself. */
  readonly crdGroupsInstalledElsewhere?: readonly string[];
  /** What must exist before the platform (operators, for example). */
  readonly dependsOn?: pulumi.Resource[];
  /**
   * Cloud outputs that are unknown until their resources exist, by the placeholder the config
   * carries in their place: each is put into the objects as a Pulumi output.
   */
  readonly outputs?: Record<string, pulumi.Input<string>>;
  /** The digest of the platform's own store's keys (storeKeysRevision): its users are made again when it changes. */
  readonly storeKeysRevision?: pulumi.Output<string>;
}

/** Stands in for the store keys' revision in the objects until it is known. */
export const STORE_KEYS_REVISION = 'pulumi-output-keysRevision';

/** Everything the platform puts into one cluster: operator CRDs, the chart, and the Secrets it refers to. */
export class ClusterPlatform extends pulumi.ComponentResource {
  readonly objectCount: number;
  /** The chart's Namespaces: what anything else placed in them must wait for. */
  readonly namespaces: pulumi.Resource[];
  /** Every object of the chart, by `<Kind>/<namespace>/<name>`: what a resource outside it may wait for. */
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;

  constructor(name: string, args: ClusterPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:ClusterPlatform', name, {}, opts);
    const revision = args.storeKeysRevision;
    const outputs = { ...args.outputs, ...(revision ? { [STORE_KEYS_REVISION]: revision } : {}) };
    const rendered = renderPlatform(args.config, revision ? { storeKeysRevision: STORE_KEYS_REVISION } : {});
    const charts = rendered.map((chart) => ({
      ...chart,
      objects: chart.objects.map((o) => withOutputs(o, outputs) as Record<string, unknown>),
    }));
    const objects = charts.flatMap((c) => c.objects as unknown as KubernetesObject[]);
    const crds = new OperatorCrds(
      'operator-crds',
      { objects, skipGroups: args.crdGroupsInstalledElsewhere },
      { parent: this, dependsOn: args.dependsOn },
    );
    const chart = new PlatformChart(
      'chart',
      { charts, awaitIngress: args.awaitIngress, dependsOn: [...crds.resources, ...(args.dependsOn ?? [])] },
      { parent: this },
    );
    const namespaces = [...chart.namespaces.values()];
    this.namespaces = namespaces;
    this.resources = chart.resources;
    const secrets = (args.secrets ?? []).map(
      (spec) =>
        new PlatformSecret(spec.name, { ...spec, config: args.config, dependsOn: namespaces }, { parent: this }),
    );
    this.objectCount = crds.resources.length + chart.resources.size + secrets.length;
    this.registerOutputs({ objectCount: this.objectCount });
  }
}

/** Replaces each placeholder inside string fields with its output; objects without one are unchanged. */
export function withOutputs(value: unknown, outputs: Record<string, pulumi.Input<string>>): unknown {
  if (Object.keys(outputs).length === 0) return value;
  if (typeof value === 'string') {
    const used = Object.entries(outputs).filter(([placeholder]) => value.includes(placeholder));
    if (used.length === 0) return value;
    return pulumi
      .all(used.map(([, output]) => output))
      .apply((resolved) =>
        used.reduce((text, [placeholder], i) => text.split(placeholder).join(String(resolved[i])), value),
      );
  }
  if (Array.isArray(value)) return value.map((v) => withOutputs(v, outputs));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withOutputs(v, outputs)]));
  }
  return value;
}
