import * as pulumi from '@pulumi/pulumi';
import { validatePlatformConfig } from '../../../model/config/validate.js';
import { AWS_PLACEHOLDER_OUTPUTS, aws as awsEnvironment, type AwsOutputs } from '../../environments/aws.js';
import { ClusterPlatform } from '../components/cluster-platform.js';
import { clusterProvider } from '../components/cluster-provider.js';
import { applyStackOverrides, CONFIG_NAMESPACE, type StackConfig } from '../stack-config.js';
import type { StackOutputs } from '../stack-outputs.js';
import { artifactAccessRoles } from './artifact-access-roles.js';
import { ArtifactBucket } from './artifact-bucket.js';
import { ClusterAutoscalerRole } from './cluster-autoscaler-role.js';
import { ClusterOperators } from './cluster-operators.js';
import { EksCluster } from './eks-cluster.js';
import { Network, privateSubnetCidrs } from './network.js';
import { NodeGroups } from './node-groups.js';
import { DATABASE_USER, PostgresDatabase } from './postgres-database.js';
import { principalGroups, TeamAccess } from './team-access.js';

/**
 * Stands in for a cloud output in the PlatformConfig until the output is known; the Secret's name
 * is fixed. A team's is closed by `)`, so that one team's never holds another's (`vision`, `vision2`).
 */
const placeholder = (key: keyof AwsOutputs) => `pulumi-output-${key}`;
const PLACEHOLDERS: AwsOutputs = {
  region: placeholder('region'),
  databaseHost: placeholder('databaseHost'),
  databaseSecret: AWS_PLACEHOLDER_OUTPUTS.databaseSecret,
  artifactBucket: placeholder('artifactBucket'),
  trackingRoleArn: placeholder('trackingRoleArn'),
  teamRoleArn: (team) => `${placeholder('teamRoleArn')}(${team})`,
  logArchiveRoleArn: placeholder('logArchiveRoleArn'),
};

/**
 * aws-* stacks: the network, EKS with a node group per pool and an access entry per team member's
 * IAM principal, RDS Postgres, the S3 artifact store with a workload role for the tracking server
 * and one per team, the operators (the node autoscaler with its own role), then the platform chart
 * on that cluster. The chart is rendered with placeholders for the cloud outputs, each of which
 * becomes a Pulumi output.
 */
export function deployAws(stack: StackConfig): StackOutputs {
  const settings = stack.aws;
  // Required for aws stacks by readStackConfig; read again here to keep it a Pulumi secret.
  const databasePassword = new pulumi.Config(CONFIG_NAMESPACE).requireSecret('databasePassword');
  const input = applyStackOverrides(awsEnvironment(PLACEHOLDERS), stack);
  // A new VPC reaches S3 and STS through its own endpoints, in its private subnets: the store's
  // NetworkPolicies name those, rather than every address on 443.
  if (!('id' in settings.vpc) && input.artifacts.kind === 's3') {
    input.artifacts = { ...input.artifacts, egressCidrs: privateSubnetCidrs(settings.vpc) };
  }
  const config = validatePlatformConfig(stack.stack, input);
  if (config.artifacts.kind !== 's3') throw new Error('the aws environment stores artifacts in S3');
  const artifactPrefix = config.artifacts.prefix;
  // Checked against the teams before any resource is registered.
  const principals = principalGroups(stack.stack, config, settings.groupPrincipals);
  const tags = { 'plinth.dev/stack': stack.stack, 'plinth.dev/environment': config.name };

  const region = pulumi.output(new pulumi.Config('aws').require('region'));
  const network = new Network(`plinth-${stack.stack}`, {
    vpc: settings.vpc,
    natPerZone: stack.production,
    region,
    tags,
  });
  const eks = new EksCluster(`plinth-${stack.stack}`, {
    kubernetesVersion: settings.kubernetesVersion,
    subnetIds: network.privateSubnetIds,
    tags,
  });
  const nodes = new NodeGroups(`plinth-${stack.stack}`, {
    config,
    cluster: eks.cluster,
    subnetIds: network.privateSubnetIds,
    tags,
  });
  const database = new PostgresDatabase(`plinth-${stack.stack}`, {
    settings: settings.database,
    production: stack.production,
    vpcId: network.vpcId,
    subnetIds: network.privateSubnetIds,
    clientSecurityGroupId: eks.cluster.vpcConfig.clusterSecurityGroupId,
    password: databasePassword,
    tags,
  });
  const artifacts = new ArtifactBucket(`plinth-${stack.stack}`, {
    prefix: artifactPrefix,
    retention: settings.retention,
    production: stack.production,
    tags,
  });
  const roles = artifactAccessRoles(stack.stack, config, {
    oidcProviderArn: eks.oidcProvider.arn,
    oidcIssuer: eks.oidcIssuer,
    bucketArn: artifacts.bucket.arn,
    prefix: artifactPrefix,
    kmsKeyArn: artifacts.key.arn,
    tags,
  });
  const teamRoleArns = [...roles.teams].map(([team, role]) => [team, role.role.arn] as const);

  const access = new TeamAccess(`plinth-${stack.stack}-access`, {
    clusterName: eks.cluster.name,
    principals,
    tags,
  });
  const autoscalerRole = new ClusterAutoscalerRole(`plinth-${stack.stack}-cluster-autoscaler`, {
    clusterName: eks.cluster.name,
    oidcProviderArn: eks.oidcProvider.arn,
    oidcIssuer: eks.oidcIssuer,
    tags,
  });

  const provider = clusterProvider('eks', { kubeconfig: eks.kubeconfig }, { dependsOn: Object.values(nodes.groups) });
  const operators = new ClusterOperators(
    'operators',
    {
      config,
      enabled: settings.operators,
      cloud: {
        clusterName: eks.cluster.name,
        region,
        kubernetesVersion: settings.kubernetesVersion,
        autoscalerRoleArn: autoscalerRole.role.arn,
      },
    },
    { providers: [provider] },
  );
  const platform = new ClusterPlatform(
    'platform',
    {
      config,
      awaitIngress: stack.awaitIngress,
      crdGroupsInstalledElsewhere: operators.crdGroups,
      dependsOn: operators.releases,
      outputs: {
        [PLACEHOLDERS.region]: region,
        [PLACEHOLDERS.databaseHost]: database.address,
        [PLACEHOLDERS.artifactBucket]: artifacts.bucket.bucket,
        [PLACEHOLDERS.trackingRoleArn]: roles.tracking.role.arn,
        [PLACEHOLDERS.logArchiveRoleArn]: roles.logArchive.role.arn,
        ...Object.fromEntries(teamRoleArns.map(([team, arn]) => [PLACEHOLDERS.teamRoleArn(team), arn])),
      },
      secrets: [
        {
          name: PLACEHOLDERS.databaseSecret,
          stringData: pulumi
            .secret(databasePassword)
            .apply((password): Record<string, string> => ({ username: DATABASE_USER, password })),
        },
      ],
    },
    { providers: [provider] },
  );
  return {
    environment: stack.environment,
    platformNamespace: config.namespace,
    objectCount: platform.objectCount,
    cloud: pulumi.output({
      clusterName: eks.cluster.name,
      kubeconfig: eks.kubeconfig,
      databaseEndpoint: database.instance.endpoint,
      databaseSecret: PLACEHOLDERS.databaseSecret,
      artifactBucket: artifacts.bucket.bucket,
      trackingRoleArn: roles.tracking.role.arn,
      teamRoleArns: Object.fromEntries(teamRoleArns),
      logArchiveRoleArn: roles.logArchive.role.arn,
      vpcId: network.vpcId,
      accessEntries: access.entries.map((entry) => entry.principalArn),
    }),
  };
}
