import * as pulumi from '@pulumi/pulumi';
import type { RenderedChart } from '../../../constructs/platform.js';
import {
  groupKind,
  isFoundation,
  registerObject,
  resourceName,
  servedGroupKind,
  type KubernetesObject,
} from './kubernetes-objects.js';

/** Tells the Kubernetes provider not to wait for an object to report readiness. */
const SKIP_AWAIT = 'pulumi.com/skipAwait';

export interface PlatformChartArgs {
  /** The platform as the constructs render it: the same objects `cdk8s synth` writes. */
  readonly charts: readonly RenderedChart[];
  /** Wait for Ingresses to get an address (needs an ingress controller that reports one). */
  readonly awaitIngress: boolean;
  /** What every object waits for, such as the operators' CRDs. */
  readonly dependsOn?: pulumi.Resource[];
}

/**
 * The platform chart, deployed object by object: one child component per construct chart, so
 * `pulumi preview` reads as the same tree as dist/<env>/. Namespaces and CRDs are created first;
 * each other object waits for its namespace and for the CRD of its kind.
 */
export class PlatformChart extends pulumi.ComponentResource {
  /** Every object's resource, by `<Kind>/<namespace>/<name>`. */
  readonly resources = new Map<string, pulumi.CustomResource>();
  /** The chart's Namespaces, by name: what anything placed in them must wait for. */
  readonly namespaces = new Map<string, pulumi.Resource>();

  constructor(name: string, args: PlatformChartArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:PlatformChart', name, {}, opts);
    const groups = new Map(args.charts.map((chart) => [chart, new ChartGroup(chart.name, { parent: this })]));
    const objects = [...groups].flatMap(([chart, parent]) =>
      (chart.objects as unknown as KubernetesObject[]).map((object) => ({ object, parent })),
    );

    const crds = new Map<string, pulumi.Resource>();
    for (const { object, parent } of objects.filter((o) => isFoundation(o.object))) {
      const resource = this.register(object, { parent, dependsOn: args.dependsOn });
      if (object.kind === 'Namespace') this.namespaces.set(object.metadata.name, resource);
      else crds.set(servedGroupKind(object), resource);
    }
    for (const { object, parent } of objects.filter((o) => !isFoundation(o.object))) {
      const dependsOn = [
        ...(args.dependsOn ?? []),
        ...[
          this.namespaces.get(object.metadata.namespace ?? ''),
          crds.get(groupKind(object.apiVersion, object.kind)),
        ].filter((r): r is pulumi.Resource => r !== undefined),
      ];
      const awaited =
        object.kind !== 'Ingress' || args.awaitIngress ? object : withAnnotation(object, SKIP_AWAIT, 'true');
      this.register(awaited, { parent, dependsOn });
    }
    this.registerOutputs({ objectCount: this.resources.size });
  }

  private register(object: KubernetesObject, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const resource = registerObject(object, opts);
    this.resources.set(resourceName(object), resource);
    return resource;
  }
}

/** One construct chart (00-namespace, 10-rbac, ...), grouping its objects in the resource tree. */
class ChartGroup extends pulumi.ComponentResource {
  constructor(name: string, opts: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:Chart', name, {}, opts);
    this.registerOutputs({});
  }
}

function withAnnotation(object: KubernetesObject, key: string, value: string): KubernetesObject {
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [key]: value } } };
}
