import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { PolicyDocument } from '../../../model/store-access.js';
import { artifactKeyStatement, serviceAccountTrustPolicy } from './iam-policies.js';

export interface ArtifactAccessRoleArgs {
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  /** Exactly the service accounts that may assume the role. */
  readonly serviceAccounts: readonly { namespace: string; name: string }[];
  readonly bucketArn: pulumi.Input<string>;
  /** What the role may do in the bucket, given its ARN (model/store-access.ts). */
  readonly access: (bucketArn: string) => PolicyDocument;
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/**
 * One IAM role (IRSA) behind a workload identity of the artifact store: the tracking server's, or
 * one team's, or the controller's (logs). It can be assumed only by the listed service accounts,
 * and grants only its prefixes of the bucket and the bucket's key.
 */
export class ArtifactAccessRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly policyDocument: pulumi.Output<string>;

  constructor(name: string, args: ArtifactAccessRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:ArtifactAccessRole', name, {}, opts);
    const parent = { parent: this };
    this.role = new aws.iam.Role(
      name,
      {
        assumeRolePolicy: serviceAccountTrustPolicy(args.oidcProviderArn, args.oidcIssuer, args.serviceAccounts),
        tags: args.tags,
      },
      parent,
    );
    this.policyDocument = pulumi.all([args.bucketArn, args.kmsKeyArn]).apply(([bucketArn, keyArn]) => {
      const access = args.access(bucketArn);
      return JSON.stringify({ ...access, Statement: [...access.Statement, artifactKeyStatement(keyArn)] });
    });
    new aws.iam.RolePolicy(name, { role: this.role.id, policy: this.policyDocument }, parent);
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
