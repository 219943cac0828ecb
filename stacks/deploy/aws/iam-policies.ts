import * as pulumi from '@pulumi/pulumi';
import type { PolicyDocument, PolicyStatement } from '../../../model/store-access.js';

/**
 * IAM policy documents, built as data so that unit tests can read exactly what they grant. What a
 * credential may do in the artifact store is model/store-access.ts's, shared with S3-compatible
 * stores; here is what only AWS has: trust, the KMS key, the bucket's own policy.
 */

/** Trust for an AWS service (EKS, EC2) to assume a role. */
export function assumeRolePolicy(service: string): string {
  const doc: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: service } }],
  };
  return JSON.stringify(doc);
}

/** Trust for exactly the given Kubernetes service accounts, through the cluster's OIDC provider. */
export function serviceAccountTrustPolicy(
  oidcProviderArn: pulumi.Input<string>,
  oidcIssuer: pulumi.Input<string>,
  serviceAccounts: readonly { namespace: string; name: string }[],
): pulumi.Output<string> {
  return pulumi.all([oidcProviderArn, oidcIssuer]).apply(([arn, issuer]) => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: arn },
          Condition: {
            StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com' },
            'ForAnyValue:StringEquals': {
              [`${issuer}:sub`]: serviceAccounts.map((sa) => `system:serviceaccount:${sa.namespace}:${sa.name}`),
            },
          },
        },
      ],
    };
    return JSON.stringify(doc);
  });
}

/** Use of the bucket's KMS key, without which no object of the bucket can be read or written. */
export function artifactKeyStatement(kmsKeyArn: string): PolicyStatement {
  return {
    Sid: 'UseArtifactKey',
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    Resource: kmsKeyArn,
  };
}

/** Refuses any request to the bucket that does not use TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

/**
 * The cluster autoscaler's rights: to read every Auto Scaling group, launch template and instance
 * type (discovery needs them, and no read can be scoped by tag), and to resize or shrink only the
 * groups EKS tagged as this cluster's (every managed node group's group carries the tag).
 */
export function clusterAutoscalerPolicy(clusterName: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DiscoverNodeGroups',
        Effect: 'Allow',
        Action: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeLaunchConfigurations',
          'autoscaling:DescribeScalingActivities',
          'autoscaling:DescribeTags',
          'ec2:DescribeImages',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplateVersions',
          'ec2:GetInstanceTypesFromInstanceRequirements',
          'eks:DescribeNodegroup',
        ],
        Resource: '*',
      },
      {
        Sid: 'ScaleOwnNodeGroups',
        Effect: 'Allow',
        Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        Resource: '*',
        Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: 'owned' } },
      },
    ],
  };
}
