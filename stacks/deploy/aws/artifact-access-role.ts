import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { artifactAccessPolicy, serviceAccountTrustPolicy } from './iam-policies.js';

export interface ArtifactAccessRoleArgs {
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  /** Exactly the service accounts that read and write artifacts: the tracking server's and each team's run account. */
  readonly serviceAccounts: readonly { namespace: string; name: string }[];
  readonly bucketArn: pulumi.Input<string>;
  readonly prefix: string;
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/**
 * The IAM role (IRSA) behind the artifact store's workload identity. It can be assumed only by the
 * listed service accounts, and grants only the artifact prefix of the bucket and its key. The
 * controller gets no AWS role at all: it never touches the bucket.
 */
export class ArtifactAccessRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly policyDocument: pulumi.Output<string>;

  constructor(name: string, args: ArtifactAccessRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:ArtifactAccessRole', name, {}, opts);
    const parent = { parent: this };
    this.role = new aws.iam.Role(
      `${name}-artifacts`,
      {
        assumeRolePolicy: serviceAccountTrustPolicy(args.oidcProviderArn, args.oidcIssuer, args.serviceAccounts),
        tags: args.tags,
      },
      parent,
    );
    this.policyDocument = pulumi
      .all([args.bucketArn, args.kmsKeyArn])
      .apply(([bucketArn, keyArn]) => JSON.stringify(artifactAccessPolicy(bucketArn, args.prefix, keyArn)));
    new aws.iam.RolePolicy(`${name}-artifacts`, { role: this.role.id, policy: this.policyDocument }, parent);
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
