import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { NodePool, Taint } from '../../../model/config/node-pools.js';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { GPU_RESOURCE, nodeLabels, POOL_LABEL } from '../../../model/pools.js';
import { serviceRole } from './service-role.js';

/** EKS spells taint effects in its own way. */
const EKS_EFFECT: Record<Taint['effect'], string> = {
  NoSchedule: 'NO_SCHEDULE',
  PreferNoSchedule: 'PREFER_NO_SCHEDULE',
  NoExecute: 'NO_EXECUTE',
};

/**
 * The label by which the cluster autoscaler knows a GPU node before its device plugin advertises
 * the GPUs: without it, a new GPU node looks as if it lacked them, and the autoscaler adds more.
 */
export const AUTOSCALER_GPU_LABEL = 'k8s.amazonaws.com/accelerator';

/** Where the cluster autoscaler reads what a node of a group at zero nodes would have. */
const NODE_TEMPLATE = 'k8s.io/cluster-autoscaler/node-template';

/** A pool's node labels on AWS: the pool definition's, and the autoscaler's GPU label. */
export function awsNodeLabels(name: string, pool: NodePool): Record<string, string> {
  return { ...nodeLabels(name, pool), ...(pool.role === 'gpu' ? { [AUTOSCALER_GPU_LABEL]: pool.accelerator } : {}) };
}

/**
 * The tags on a node group's Auto Scaling group that tell the cluster autoscaler, while the group
 * has no node, what a new node would be: its labels, taints and GPUs. Without them a pool at zero
 * never comes up for a run that selects it: EKS's own description of the group is read only until
 * the group's first node, never again after it scales back to zero.
 */
export function nodeTemplateTags(name: string, pool: NodePool): Record<string, string> {
  return {
    ...Object.fromEntries(
      Object.entries(awsNodeLabels(name, pool)).map(([k, v]) => [`${NODE_TEMPLATE}/label/${k}`, v]),
    ),
    ...Object.fromEntries(pool.taints.map((t) => [`${NODE_TEMPLATE}/taint/${t.key}`, `${t.value ?? ''}:${t.effect}`])),
    ...(pool.role === 'gpu' ? { [`${NODE_TEMPLATE}/resources/${GPU_RESOURCE}`]: String(pool.gpusPerNode) } : {}),
  };
}

/** The EKS node group settings of one pool: labels and taints from the same pool definition the constructs use. */
export function nodeGroupShape(name: string, pool: NodePool) {
  if (pool.instanceTypes.length === 0) {
    throw new Error(`nodePools.${name}.instanceTypes: an AWS pool needs at least one instance type`);
  }
  return {
    instanceTypes: pool.instanceTypes,
    labels: awsNodeLabels(name, pool),
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
      const group = new aws.eks.NodeGroup(
        `${name}-${poolName}`,
        {
          clusterName: args.cluster.name,
          nodeRoleArn: role.arn,
          subnetIds: args.subnetIds,
          ...shape,
          tags: { ...args.tags, [POOL_LABEL]: poolName },
        },
        // The autoscaler owns the desired size once the group exists.
        { ...parent, dependsOn: attachments, ignoreChanges: ['scalingConfig.desiredSize'] },
      );
      this.groups[poolName] = group;
      // A managed node group's tags stay on the group; the autoscaler reads its Auto Scaling group's.
      const autoScalingGroup = group.resources.apply((resources) => {
        const asg = resources[0]?.autoscalingGroups?.[0]?.name;
        if (!asg) throw new Error(`node group ${name}-${poolName} reports no Auto Scaling group`);
        return asg;
      });
      for (const [key, value] of Object.entries(nodeTemplateTags(poolName, pool))) {
        new aws.autoscaling.Tag(
          `${name}-${poolName}-${key.slice(NODE_TEMPLATE.length + 1).replace(/[^A-Za-z0-9-]+/g, '-')}`,
          { autoscalingGroupName: autoScalingGroup, tag: { key, value, propagateAtLaunch: false } },
          parent,
        );
      }
    }
    this.registerOutputs({});
  }
}
