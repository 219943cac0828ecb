import type { PlatformConfigInput } from '../../model/config/schema.js';
import type { TeamInput } from '../../model/config/teams.js';
import { EXAMPLE_REGISTRY, platformImages } from './images.js';

/** What the AWS stack provisions and hands to the platform. */
export interface AwsOutputs {
  readonly region: string;
  readonly databaseHost: string;
  readonly databaseSecret: string;
  readonly artifactBucket: string;
  /** The tracking server's role in the artifact store. */
  readonly trackingRoleArn: string;
  /** Each team's role in the artifact store, which only its runs' accounts may assume. */
  readonly teamRoleArn: (team: string) => string;
  /** The controller's role in the artifact store, with which it archives runs' logs. */
  readonly logArchiveRoleArn: string;
}

/** Placeholders for `npm run synth`; `pulumi up -s aws-*` passes the real outputs. */
export const AWS_PLACEHOLDER_OUTPUTS: AwsOutputs = {
  region: 'us-east-1',
  databaseHost: 'plinth-db.placeholder.us-east-1.rds.amazonaws.com',
  databaseSecret: 'plinth-db-credentials',
  artifactBucket: 'plinth-artifacts-placeholder',
  trackingRoleArn: 'arn:aws:iam::000000000000:role/plinth-tracking-placeholder',
  teamRoleArn: (team) => `arn:aws:iam::000000000000:role/plinth-team-${team}-placeholder`,
  logArchiveRoleArn: 'arn:aws:iam::000000000000:role/plinth-log-archive-placeholder',
};

const TEAMS: TeamInput[] = [
  {
    name: 'vision',
    members: [{ kind: 'Group', name: 'vision', role: 'editor' }],
    quota: { cpu: '256', memory: '1Ti', gpu: 32, maxConcurrentRuns: 100 },
  },
];

/** EKS with managed node groups, RDS Postgres and S3 through IRSA (no static keys). */
export function aws(outputs: AwsOutputs = AWS_PLACEHOLDER_OUTPUTS): PlatformConfigInput {
  return {
    name: 'aws',
    images: platformImages(EXAMPLE_REGISTRY),
    nodePools: {
      core: {
        role: 'core',
        instanceTypes: ['m6i.xlarge'],
        size: { min: 3, max: 5 },
        taints: [{ key: 'plinth.dev/dedicated', value: 'core', effect: 'NoSchedule' }],
      },
      cpu: { role: 'cpu', instanceTypes: ['m6i.4xlarge'], size: { min: 1, max: 20 } },
      gpu: {
        role: 'gpu',
        accelerator: 'nvidia-a10g',
        gpusPerNode: 4,
        instanceTypes: ['g5.12xlarge'],
        size: { min: 0, max: 8 },
      },
      'gpu-a100': {
        role: 'gpu',
        accelerator: 'nvidia-a100',
        gpusPerNode: 8,
        instanceTypes: ['p4d.24xlarge'],
        size: { min: 0, max: 4 },
      },
    },
    database: {
      kind: 'external',
      host: outputs.databaseHost,
      port: 5432,
      credentialsSecret: outputs.databaseSecret,
      sslMode: 'verify-full',
    },
    artifacts: {
      kind: 's3',
      bucket: outputs.artifactBucket,
      region: outputs.region,
      credentials: {
        workloadIdentity: {
          roleArn: outputs.trackingRoleArn,
          teamRoleArns: Object.fromEntries(TEAMS.map((t) => [t.name, outputs.teamRoleArn(t.name)])),
          logArchiveRoleArn: outputs.logArchiveRoleArn,
        },
      },
    },
    ingress: { domain: 'ml.example.com', tls: { kind: 'acme', email: 'platform@example.com' } },
    teams: TEAMS,
    monitoring: { enabled: true },
  };
}
