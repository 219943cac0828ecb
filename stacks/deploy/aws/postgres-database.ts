import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AwsStackConfig } from '../stack-config.js';

export interface PostgresDatabaseArgs {
  readonly settings: AwsStackConfig['database'];
  readonly production: boolean;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string[]>;
  /** The only security group admitted on 5432: the cluster's. */
  readonly clientSecurityGroupId: pulumi.Input<string>;
  readonly password: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

export const DATABASE_NAME = 'plinth';
export const DATABASE_USER = 'plinth';

/**
 * The tracking server's Postgres on RDS: Multi-AZ, encrypted, TLS enforced, backed up for at
 * least seven days. Production stacks also get deletion protection and a final snapshot.
 */
export class PostgresDatabase extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
  readonly address: pulumi.Output<string>;

  constructor(name: string, args: PostgresDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:PostgresDatabase', name, {}, opts);
    const parent = { parent: this };
    const { settings } = args;
    const major = settings.engineVersion.split('.')[0];
    const subnets = new aws.rds.SubnetGroup(`${name}-postgres`, { subnetIds: args.subnetIds, tags: args.tags }, parent);
    const parameters = new aws.rds.ParameterGroup(
      `${name}-postgres`,
      {
        family: `postgres${major}`,
        parameters: [
          { name: 'rds.force_ssl', value: '1' },
          { name: 'log_min_duration_statement', value: '1000' },
        ],
        tags: args.tags,
      },
      parent,
    );
    const firewall = new aws.ec2.SecurityGroup(
      `${name}-postgres`,
      {
        vpcId: args.vpcId,
        description: 'Postgres: the EKS cluster only',
        ingress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, securityGroups: [args.clientSecurityGroupId] }],
        tags: args.tags,
      },
      parent,
    );
    this.instance = new aws.rds.Instance(
      `${name}-postgres`,
      {
        engine: 'postgres',
        engineVersion: settings.engineVersion,
        instanceClass: settings.instanceClass,
        allocatedStorage: settings.allocatedStorageGb,
        storageType: 'gp3',
        storageEncrypted: true,
        multiAz: true,
        dbName: DATABASE_NAME,
        username: DATABASE_USER,
        password: pulumi.secret(args.password),
        dbSubnetGroupName: subnets.name,
        parameterGroupName: parameters.name,
        vpcSecurityGroupIds: [firewall.id],
        publiclyAccessible: false,
        backupRetentionPeriod: settings.backupRetentionDays,
        copyTagsToSnapshot: true,
        autoMinorVersionUpgrade: true,
        performanceInsightsEnabled: true,
        deletionProtection: args.production,
        skipFinalSnapshot: !args.production,
        ...(args.production ? { finalSnapshotIdentifier: `${name}-final` } : {}),
        tags: args.tags,
      },
      // Production data outlives a mistaken `pulumi destroy`.
      { ...parent, protect: args.production },
    );
    this.address = this.instance.address;
    this.registerOutputs({ address: this.address });
  }
}
