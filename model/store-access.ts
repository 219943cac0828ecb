import { createHmac } from 'node:crypto';
import {
  databaseBackupsPrefix,
  logsPrefix,
  outputsPrefix,
  teamLogsPrefix,
  teamOutputsPrefix,
  trackingPrefix,
} from './store-layout.js';

/**
 * What each credential of the artifact store may do, as S3 policy documents: the same data becomes
 * an IAM role policy on AWS and a user policy on S3-compatible stores (MinIO reads the same
 * language). Built as data so that tests read exactly what each grants. Each statement names its
 * resources; none uses a wildcard resource.
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

/** The ARN S3 and S3-compatible stores name a bucket by. */
export const arnOfBucket = (bucket: string): string => `arn:aws:s3:::${bucket}`;

const WRITE = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];
const READ = ['s3:GetObject'];

/** Listing, limited to keys under the given prefixes (a trailing `/` keeps team `vision` out of `vision2`). */
function listUnder(bucketArn: string, sid: string, prefixes: string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: bucketArn,
    Condition: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
  };
}

/**
 * A team's runs: read and write the team's outputs, read the team's logs (which the platform
 * writes), nothing else: not another team's prefixes, not the tracking root, not Postgres's backups.
 */
export function teamStorePolicy(bucketArn: string, prefix: string, team: string): PolicyDocument {
  const outputs = teamOutputsPrefix(prefix, team);
  const logs = teamLogsPrefix(prefix, team);
  return {
    Version: '2012-10-17',
    Statement: [
      listUnder(bucketArn, 'ListTeamPrefixes', [outputs, logs]),
      { Sid: 'ReadWriteTeamOutputs', Effect: 'Allow', Action: WRITE, Resource: `${bucketArn}/${outputs}*` },
      { Sid: 'ReadTeamLogs', Effect: 'Allow', Action: READ, Resource: `${bucketArn}/${logs}*` },
    ],
  };
}

/**
 * The tracking server: every team's outputs, where each team's experiments keep their artifacts,
 * and its own default artifact root. Not the logs, not Postgres's backups.
 */
export function trackingStorePolicy(bucketArn: string, prefix: string): PolicyDocument {
  const prefixes = [outputsPrefix(prefix), trackingPrefix(prefix)];
  return {
    Version: '2012-10-17',
    Statement: [
      listUnder(bucketArn, 'ListTrackedPrefixes', prefixes),
      { Sid: 'ReadWriteTracked', Effect: 'Allow', Action: WRITE, Resource: prefixes.map((p) => `${bucketArn}/${p}*`) },
    ],
  };
}

/**
 * Postgres's base backups and WAL (CloudNativePG's barman-cloud), under their own prefix. barman-cloud
 * first asks whether the bucket exists (HeadBucket), which S3 authorizes as listing the bucket with
 * no prefix: so this credential lists every key's name, and reads and writes only the backups.
 */
export function databaseBackupStorePolicy(bucketArn: string, prefix: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'FindBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
      {
        Sid: 'ReadWriteBackups',
        Effect: 'Allow',
        Action: WRITE,
        Resource: `${bucketArn}/${databaseBackupsPrefix(prefix)}*`,
      },
    ],
  };
}

/**
 * The controller's, which archives every run's logs: it lists, reads (to resume where it stopped)
 * and writes the logs prefix, and may delete nothing, so that not even the platform rewrites a
 * run's logs; the bucket's lifecycle rule expires them. Nothing of the outputs, the tracking root
 * or the backups.
 */
export function logArchiveStorePolicy(bucketArn: string, prefix: string): PolicyDocument {
  const logs = logsPrefix(prefix);
  return {
    Version: '2012-10-17',
    Statement: [
      listUnder(bucketArn, 'ListLogs', [logs]),
      {
        Sid: 'ArchiveLogs',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: `${bucketArn}/${logs}*`,
      },
    ],
  };
}

/**
 * The platform's credential (`artifacts.credentials.secret`), which the tracking server and
 * Postgres's backups share: both policies, and nothing of the logs.
 */
export function platformStorePolicy(bucketArn: string, prefix: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      ...trackingStorePolicy(bucketArn, prefix).Statement,
      ...databaseBackupStorePolicy(bucketArn, prefix).Statement,
    ],
  };
}

/** One store user and what it may do, for a store that scopes users by its bucket policy. */
export interface PrincipalGrant {
  /** How the store names the user in a policy's Principal: its access key id. */
  readonly principal: string;
  /** Set apart each grant's statement ids, which a policy must not repeat. */
  readonly sidSuffix: string;
  readonly policy: PolicyDocument;
}

/**
 * One bucket policy holding every grant's statements, each naming its user as Principal: the form
 * stores take that have per-user keys but no user policies (versitygw), where what a user may do
 * is said once, on the bucket. The statements are the same as the user or role policies elsewhere.
 */
export function bucketPolicyOf(grants: readonly PrincipalGrant[]): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: grants.flatMap((grant) =>
      grant.policy.Statement.map((statement) => ({
        ...statement,
        Sid: `${statement.Sid ?? 'Statement'}${grant.sidSuffix}`,
        Principal: { AWS: [grant.principal] },
      })),
    ),
  };
}

/**
 * A team's secret key, derived from the admin's: the same on every `pulumi up`, so nothing churns,
 * different for each environment and team, and no team's reveals the admin's or another team's.
 * A new admin key makes new team keys, and the Job gives them to the store.
 */
export function teamSecretKey(adminSecretAccessKey: string, environment: string, team: string): string {
  return createHmac('sha256', adminSecretAccessKey)
    .update(`plinth/artifact-store/${environment}/${team}`)
    .digest('hex')
    .slice(0, 40);
}

/**
 * The platform's own secret key (tracking, backups), when the platform deploys the store: derived
 * like a team's, from a text no team's can be (a team name is a DNS label, without `#`).
 */
export function platformSecretKey(adminSecretAccessKey: string, environment: string): string {
  return createHmac('sha256', adminSecretAccessKey)
    .update(`plinth/artifact-store/${environment}#platform`)
    .digest('hex')
    .slice(0, 40);
}

/**
 * The controller's secret key for archiving logs, when the platform makes the store's users:
 * derived like a team's, from a text no team's can be.
 */
export function logArchiveSecretKey(adminSecretAccessKey: string, environment: string): string {
  return createHmac('sha256', adminSecretAccessKey)
    .update(`plinth/artifact-store/${environment}#logs`)
    .digest('hex')
    .slice(0, 40);
}
