import * as pulumi from '@pulumi/pulumi';

/**
 * IAM policy documents, built as data so that unit tests can read exactly what they grant.
 * Each statement names its resources; none uses a wildcard resource.
 */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: PolicyStatement[];
}

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

/** Read and write under one prefix of one bucket, and use of its KMS key: nothing else. */
export function artifactAccessPolicy(bucketArn: string, prefix: string, kmsKeyArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListArtifactPrefix',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        Condition: { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } },
      },
      {
        Sid: 'ReadWriteArtifacts',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: `${bucketArn}/${prefix}/*`,
      },
      {
        Sid: 'UseArtifactKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: kmsKeyArn,
      },
    ],
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
