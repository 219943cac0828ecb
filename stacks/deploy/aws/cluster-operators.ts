import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { CNPG_OPERATOR_NAMESPACE } from '../../../model/names.js';
import { corePlacement, gpuPools, poolPlacement, POOL_LABEL } from '../../../model/pools.js';
import type { AwsStackConfig } from '../stack-config.js';

type Operator = keyof AwsStackConfig['operators'];

/** What the releases need to know of the cloud around the cluster. */
export interface OperatorCloud {
  readonly clusterName: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  readonly kubernetesVersion: AwsStackConfig['kubernetesVersion'];
  /** The IAM role (IRSA) the cluster autoscaler's service account assumes. */
  readonly autoscalerRoleArn: pulumi.Input<string>;
}

/** Where the cluster autoscaler runs, as which account: what its IAM role trusts. */
export const CLUSTER_AUTOSCALER_ACCOUNT = { namespace: 'kube-system', name: 'cluster-autoscaler' } as const;

/**
 * The autoscaler of each Kubernetes minor the stack deploys: its minor must be the control
 * plane's, so the chart's own image (the newest minor) is overridden.
 */
export const CLUSTER_AUTOSCALER_IMAGES: Record<AwsStackConfig['kubernetesVersion'], string> = {
  '1.33': 'v1.33.6',
  '1.34': 'v1.34.5',
  '1.35': 'v1.35.2',
};

interface OperatorChart {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
  /** Where the release goes: where the config says the platform's NetworkPolicies find it. */
  readonly namespace: (config: PlatformConfig) => string;
  /** The CRD group the release installs itself, so the stack does not install it twice. */
  readonly crdGroup?: string;
  readonly values: (config: PlatformConfig, cloud: OperatorCloud) => Record<string, unknown>;
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
  // The node autoscaler: it scales each pool's managed node group between the pool's size.min and
  // size.max, from zero for GPU pools. The cluster autoscaler rather than Karpenter, because each
  // pool already is one node group of named instance types, derived from the pool definition; the
  // autoscaler scales exactly those, reading a pool's labels and taints from its group's tags
  // (node-groups.ts). Karpenter would define each pool a second time, as a NodePool and an
  // EC2NodeClass, and need rights to launch instances and make instance profiles itself.
  clusterAutoscaler: {
    chart: 'cluster-autoscaler',
    version: '9.59.0',
    repo: 'https://kubernetes.github.io/autoscaler',
    namespace: () => CLUSTER_AUTOSCALER_ACCOUNT.namespace,
    values: (config, cloud) => ({
      cloudProvider: 'aws',
      awsRegion: cloud.region,
      autoDiscovery: { clusterName: cloud.clusterName },
      image: { tag: CLUSTER_AUTOSCALER_IMAGES[cloud.kubernetesVersion] },
      rbac: {
        serviceAccount: {
          name: CLUSTER_AUTOSCALER_ACCOUNT.name,
          annotations: { 'eks.amazonaws.com/role-arn': cloud.autoscalerRoleArn },
        },
      },
      extraArgs: {
        // A run's scratch is an emptyDir, nothing worth keeping a node up for once the run is done.
        'skip-nodes-with-local-storage': false,
      },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containerSecurityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
      ...corePlacement(config),
    }),
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
    // Only on the GPU pools' nodes, by the pool label their node groups set, tolerating their
    // taints. This replaces the chart's default affinity, which wants labels that only node feature
    // discovery sets (or `nvidia.com/gpu.present`, which nothing here sets).
    values: (config) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: POOL_LABEL, operator: 'In', values: gpuPools(config) }] }],
          },
        },
      },
      tolerations: gpuPools(config).flatMap((p) => poolPlacement(config, p).tolerations),
    }),
  },
};

export interface ClusterOperatorsArgs {
  readonly config: PlatformConfig;
  readonly enabled: AwsStackConfig['operators'];
  readonly cloud: OperatorCloud;
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
            values: chart.values(args.config, args.cloud),
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
