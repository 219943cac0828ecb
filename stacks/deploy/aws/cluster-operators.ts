import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { CNPG_OPERATOR_NAMESPACE } from '../../../model/names.js';
import { corePlacement, gpuPools, poolPlacement } from '../../../model/pools.js';
import type { AwsStackConfig } from '../stack-config.js';

type Operator = keyof AwsStackConfig['operators'];

interface OperatorChart {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
  /** Where the release goes: where the config says the platform's NetworkPolicies find it. */
  readonly namespace: (config: PlatformConfig) => string;
  /** The CRD group the release installs itself, so the stack does not install it twice. */
  readonly crdGroup?: string;
  readonly values: (config: PlatformConfig) => Record<string, unknown>;
}

/** Pinned charts: an upgrade is a reviewed change to this table. */
export const OPERATOR_CHARTS: Record<Operator, OperatorChart> = {
  certManager: {
    chart: 'cert-manager',
    version: 'v1.21.1',
    repo: 'https://charts.jetstack.io',
    namespace: () => 'cert-manager',
    crdGroup: 'cert-manager.io',
    values: (config) => ({ crds: { enabled: true }, ...corePlacement(config) }),
  },
  cloudNativePg: {
    chart: 'cloudnative-pg',
    version: '0.27.1',
    repo: 'https://cloudnative-pg.github.io/charts',
    namespace: (config) =>
      config.database.kind === 'cloudnative-pg' ? config.database.operatorNamespace : CNPG_OPERATOR_NAMESPACE,
    crdGroup: 'postgresql.cnpg.io',
    values: (config) => ({ crds: { create: true }, ...corePlacement(config) }),
  },
  ingressNginx: {
    chart: 'ingress-nginx',
    version: '4.13.3',
    repo: 'https://kubernetes.github.io/ingress-nginx',
    namespace: (config) => config.ingress.controllerNamespace,
    values: (config) => ({ controller: { replicaCount: 2, ...corePlacement(config) } }),
  },
  nvidiaDevicePlugin: {
    chart: 'nvidia-device-plugin',
    version: '0.18.0',
    repo: 'https://nvidia.github.io/k8s-device-plugin',
    namespace: () => 'nvidia-device-plugin',
    // Only on GPU nodes, whose taints it must tolerate.
    values: (config) => ({
      nodeSelector: { 'nvidia.com/gpu.present': 'true' },
      tolerations: gpuPools(config).flatMap((p) => poolPlacement(config, p).tolerations),
    }),
  },
};

export interface ClusterOperatorsArgs {
  readonly config: PlatformConfig;
  readonly enabled: AwsStackConfig['operators'];
}

/** The add-ons the platform builds on, as Helm releases at pinned chart versions. */
export class ClusterOperators extends pulumi.ComponentResource {
  readonly releases: k8s.helm.v3.Release[] = [];
  /** CRD groups that the releases install. */
  readonly crdGroups: string[] = [];

  constructor(name: string, args: ClusterOperatorsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:ClusterOperators', name, {}, opts);
    for (const [operator, chart] of Object.entries(OPERATOR_CHARTS) as [Operator, OperatorChart][]) {
      if (!args.enabled[operator]) continue;
      this.releases.push(
        new k8s.helm.v3.Release(
          chart.chart,
          {
            chart: chart.chart,
            version: chart.version,
            repositoryOpts: { repo: chart.repo },
            namespace: chart.namespace(args.config),
            createNamespace: true,
            values: chart.values(args.config),
            atomic: true,
          },
          { parent: this },
        ),
      );
      if (chart.crdGroup) this.crdGroups.push(chart.crdGroup);
    }
    this.registerOutputs({ releases: this.releases.map((r) => r.name) });
  }
}
