import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { NodePool, Taint } from '../../../model/config/node-pools.js';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { nodeLabels } from '../../../model/pools.js';
import { serviceRole } from './service-role.js';

/** EKS spells taint effects in its own way. */
const EKS_EFFECT: Record<Taint['effect'], string> = {
  NoSchedule: 'NO_SCHEDULE',
  PreferNoSchedule: 'PREFER_NO_SCHEDULE',
  NoExecute: 'NO_EXECUTE',
};

/** The EKS node group settings of one pool: labels and taints from the same pool definition the constructs use. */
export function nodeGroupShape(name: string, pool: NodePool) {
  if (pool.instanceTypes.length === 0) {
    throw new Error(`nodePools.${name}.instanceTypes: an AWS pool needs at least one instance type`);
  }
  return {
    instanceTypes: pool.instanceTypes,
    labels: nodeLabels(name, pool),
    taints: pool.taints.map((t) => ({ key: t.key, value: t.value, effect: EKS_EFFECT[t.effect] })),
    // GPU pools scale from zero; desired starts at the minimum and is then the autoscaler's.
    scalingConfig: { minSize: pool.size.min, maxSize: Math.max(pool.size.max, 1), desiredSize: pool.size.min },
    amiType: pool.role === 'gpu' ? 'AL2023_x86_64_NVIDIA' : 'AL2023_x86_64_STANDARD',
    capacityType: 'ON_DEMAND',
  };
}

export interface NodeGroupsArgs {
  readonly config: PlatformConfig;
  readonly cluster: aws.eks.Cluster;
  readonly subnetIds: pulumi.Input<string[]>;
  readonly tags: Record<string, string>;
}

/** One managed node group per platform pool: core, cpu workers and the GPU pools. */
export class NodeGroups extends pulumi.ComponentResource {
  readonly groups: Record<string, aws.eks.NodeGroup> = {};

  constructor(name: string, args: NodeGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:NodeGroups', name, {}, opts);
    const parent = { parent: this };
    const policies = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'];
    const { role, attachments } = serviceRole(
      `${name}-node`,
      'ec2.amazonaws.com',
      Object.fromEntries(policies.map((policy) => [`${name}-node-${policy}`, policy])),
      args.tags,
      parent,
    );
    for (const [poolName, pool] of Object.entries(args.config.nodePools)) {
      const shape = nodeGroupShape(poolName, pool);
      this.groups[poolName] = new aws.eks.NodeGroup(
        `${name}-${poolName}`,
        {
          clusterName: args.cluster.name,
          nodeRoleArn: role.arn,
          subnetIds: args.subnetIds,
          ...shape,
          tags: { ...args.tags, 'plinth.dev/pool': poolName },
        },
        // The autoscaler owns the desired size once the group exists.
        { ...parent, dependsOn: attachments, ignoreChanges: ['scalingConfig.desiredSize'] },
      );
    }
    this.registerOutputs({});
  }
}
