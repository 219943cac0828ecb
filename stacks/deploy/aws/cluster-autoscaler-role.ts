import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { CLUSTER_AUTOSCALER_ACCOUNT } from './cluster-operators.js';
import { clusterAutoscalerPolicy, serviceAccountTrustPolicy } from './iam-policies.js';

export interface ClusterAutoscalerRoleArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/**
 * The IAM role (IRSA) of the cluster autoscaler: only its service account may assume it, and it
 * may resize only this cluster's node groups.
 */
export class ClusterAutoscalerRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly policyDocument: pulumi.Output<string>;

  constructor(name: string, args: ClusterAutoscalerRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:ClusterAutoscalerRole', name, {}, opts);
    const parent = { parent: this };
    this.role = new aws.iam.Role(
      name,
      {
        assumeRolePolicy: serviceAccountTrustPolicy(args.oidcProviderArn, args.oidcIssuer, [
          CLUSTER_AUTOSCALER_ACCOUNT,
        ]),
        tags: args.tags,
      },
      parent,
    );
    this.policyDocument = pulumi
      .output(args.clusterName)
      .apply((cluster) => JSON.stringify(clusterAutoscalerPolicy(cluster)));
    new aws.iam.RolePolicy(name, { role: this.role.id, policy: this.policyDocument }, parent);
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
