import * as aws from '@pulumi/aws';
import type * as pulumi from '@pulumi/pulumi';
import { assumeRolePolicy } from './iam-policies.js';

/** An IAM role that an AWS service (EKS, EC2) assumes, and the AWS-managed policies it carries. */
export interface ServiceRole {
  readonly role: aws.iam.Role;
  readonly attachments: aws.iam.RolePolicyAttachment[];
}

/**
 * Creates the role and one attachment per managed policy. `policies` maps each attachment's
 * resource name to the AWS-managed policy it attaches, so that existing stacks keep their URNs.
 */
export function serviceRole(
  name: string,
  service: string,
  policies: Record<string, string>,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): ServiceRole {
  const role = new aws.iam.Role(name, { assumeRolePolicy: assumeRolePolicy(service), tags }, opts);
  const attachments = Object.entries(policies).map(
    ([attachment, policy]) =>
      new aws.iam.RolePolicyAttachment(
        attachment,
        { role: role.name, policyArn: `arn:aws:iam::aws:policy/${policy}` },
        opts,
      ),
  );
  return { role, attachments };
}
