import type * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { CONTROLLER_NAME, teamNamespaceName, teamRunAccounts, TRACKING_COMPONENT } from '../../../model/names.js';
import { logArchiveStorePolicy, teamStorePolicy, trackingStorePolicy } from '../../../model/store-access.js';
import { ArtifactAccessRole } from './artifact-access-role.js';

export interface ArtifactAccessRolesArgs {
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcIssuer: pulumi.Input<string>;
  readonly bucketArn: pulumi.Input<string>;
  /** Where the platform writes in the bucket (artifacts.prefix), laid out by model/store-layout.ts. */
  readonly prefix: string;
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

export interface ArtifactAccessRoles {
  readonly tracking: ArtifactAccessRole;
  /** The controller's, which archives runs' logs. */
  readonly logArchive: ArtifactAccessRole;
  /** By team name. */
  readonly teams: ReadonlyMap<string, ArtifactAccessRole>;
}

/**
 * The workload roles of the artifact store: the tracking server's (every team's outputs and its
 * own root), and one per team, which only the accounts that team's runs may act as can assume, and
 * which reaches only the team's prefixes, and the controller's, which writes runs' logs and nothing
 * else. None reaches Postgres's backups.
 */
export function artifactAccessRoles(
  stack: string,
  config: PlatformConfig,
  args: ArtifactAccessRolesArgs,
): ArtifactAccessRoles {
  const { prefix, ...common } = args;
  const tracking = new ArtifactAccessRole(`plinth-${stack}-tracking-artifacts`, {
    ...common,
    serviceAccounts: [{ namespace: config.namespace, name: TRACKING_COMPONENT }],
    access: (bucketArn) => trackingStorePolicy(bucketArn, prefix),
  });
  const teams = new Map(
    config.teams.map((team) => {
      const namespace = teamNamespaceName(config, team.name);
      const role = new ArtifactAccessRole(`plinth-${stack}-artifacts-${team.name}`, {
        ...common,
        serviceAccounts: teamRunAccounts(team).map((name) => ({ namespace, name })),
        access: (bucketArn) => teamStorePolicy(bucketArn, prefix, team.name),
      });
      return [team.name, role] as const;
    }),
  );
  const logArchive = new ArtifactAccessRole(`plinth-${stack}-log-archive`, {
    ...common,
    serviceAccounts: [{ namespace: config.namespace, name: CONTROLLER_NAME }],
    access: (bucketArn) => logArchiveStorePolicy(bucketArn, prefix),
  });
  return { tracking, logArchive, teams };
}
