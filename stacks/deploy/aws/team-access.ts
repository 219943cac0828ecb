import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { CONFIG_NAMESPACE, StackConfigError, type AwsStackConfig } from '../stack-config.js';

/** One IAM principal and the Kubernetes groups its access entry carries. */
export interface PrincipalGroups {
  readonly principalArn: string;
  readonly groups: readonly string[];
}

/**
 * The access entries `plinth:aws.groupPrincipals` asks for, one per IAM principal with every group
 * it is in. A group must be one that a team's members name, or the entry would grant nothing: a
 * typo is an error, naming the groups allowed.
 */
export function principalGroups(
  stack: string,
  config: PlatformConfig,
  groupPrincipals: AwsStackConfig['groupPrincipals'],
): PrincipalGroups[] {
  const teamGroups = new Set(
    config.teams.flatMap((t) => t.members.filter((m) => m.kind === 'Group').map((m) => m.name)),
  );
  const unknown = Object.keys(groupPrincipals).filter((group) => !teamGroups.has(group));
  if (unknown.length > 0) {
    const allowed = [...teamGroups].sort().join(', ') || '(none: no team has a member of kind Group)';
    throw new StackConfigError(
      stack,
      unknown.map((group) => ({
        key: `${CONFIG_NAMESPACE}:aws.groupPrincipals.${group}`,
        message: `no team's members name the group "${group}"; allowed: ${allowed}`,
      })),
    );
  }
  const byPrincipal = new Map<string, Set<string>>();
  for (const [group, principals] of Object.entries(groupPrincipals)) {
    for (const principal of principals) {
      byPrincipal.set(principal, (byPrincipal.get(principal) ?? new Set()).add(group));
    }
  }
  return [...byPrincipal]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([principalArn, groups]) => ({ principalArn, groups: [...groups].sort() }));
}

export interface TeamAccessArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly principals: readonly PrincipalGroups[];
  readonly tags: Record<string, string>;
}

/**
 * EKS access entries that let team members in: each maps an IAM role or user to the Kubernetes
 * groups the team RoleBindings name, and to nothing else. No EKS access policy is associated, so
 * what a member may do is exactly what the platform's RBAC gives the group.
 */
export class TeamAccess extends pulumi.ComponentResource {
  readonly entries: aws.eks.AccessEntry[];

  constructor(name: string, args: TeamAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:TeamAccess', name, {}, opts);
    this.entries = args.principals.map(
      ({ principalArn, groups }) =>
        new aws.eks.AccessEntry(
          `${name}-${principalArn
            .split(':')
            .slice(4)
            .join('-')
            .replace(/[^A-Za-z0-9-]+/g, '-')}`,
          {
            clusterName: args.clusterName,
            principalArn,
            type: 'STANDARD',
            kubernetesGroups: [...groups],
            tags: args.tags,
          },
          { parent: this },
        ),
    );
    this.registerOutputs({ principals: args.principals.map((p) => p.principalArn) });
  }
}
