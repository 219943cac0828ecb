import { beforeAll, describe, expect, it } from 'vitest';
import { validatePlatformConfig } from '../../model/config/validate.js';
import type { PolicyDocument } from '../../model/store-access.js';
import { inputOf } from '../support/platform.js';
import { mockStack, ofType, settled, type RecordedResource } from '../support/pulumi-mocks.js';

// AWS is out of reach here: Pulumi's runtime mocks stand in for it (see test/support/pulumi-mocks.ts).
let recorded: RecordedResource[];

const BUCKET = 'arn:aws:s3:::ml-artifacts';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/artifacts';
const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/TEST';

/** The local environment's two teams (vision with a pipeline account, nlp), on S3 through IRSA. */
function twoTeams() {
  const input = inputOf('local');
  input.artifacts = {
    kind: 's3',
    bucket: 'ml-artifacts',
    region: 'us-east-1',
    prefix: 'ml',
    credentials: {
      workloadIdentity: {
        roleArn: 'arn:tracking',
        teamRoleArns: { vision: 'arn:vision', nlp: 'arn:nlp' },
        logArchiveRoleArn: 'arn:logs',
      },
    },
  };
  return validatePlatformConfig('local', input);
}

beforeAll(async () => {
  recorded = await mockStack('aws-test', {});
  const { artifactAccessRoles } = await import('../../stacks/deploy/aws/artifact-access-roles.js');
  artifactAccessRoles('test', twoTeams(), {
    oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/test',
    oidcIssuer: ISSUER,
    bucketArn: BUCKET,
    prefix: 'ml',
    kmsKeyArn: KEY,
    tags: {},
  });
  await settled(recorded);
});

const policyOf = (role: string): PolicyDocument => {
  const found = ofType(recorded, 'aws:iam/rolePolicy:RolePolicy').find((r) => r.name === role);
  if (!found) throw new Error(`no policy of role ${role}`);
  return JSON.parse(String(found.inputs['policy'])) as PolicyDocument;
};
const trustedAccounts = (role: string): unknown => {
  const found = ofType(recorded, 'aws:iam/role:Role').find((r) => r.name === role);
  const trust = JSON.parse(String(found?.inputs['assumeRolePolicy'])) as PolicyDocument;
  return trust.Statement[0]?.Condition?.['ForAnyValue:StringEquals']?.[`${ISSUER}:sub`];
};

const WRITE = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];
const teamPolicy = (team: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'ListTeamPrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: BUCKET,
      Condition: { StringLike: { 's3:prefix': [`ml/outputs/${team}/*`, `ml/logs/${team}/*`] } },
    },
    { Sid: 'ReadWriteTeamOutputs', Effect: 'Allow', Action: WRITE, Resource: `${BUCKET}/ml/outputs/${team}/*` },
    { Sid: 'ReadTeamLogs', Effect: 'Allow', Action: ['s3:GetObject'], Resource: `${BUCKET}/ml/logs/${team}/*` },
    { Sid: 'UseArtifactKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: KEY },
  ],
});

describe('the artifact store roles (Pulumi mocks of AWS)', () => {
  it("makes one role for the tracking server, one per team and the controller's for the log archive", () => {
    expect(
      ofType(recorded, 'aws:iam/role:Role')
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      'plinth-test-artifacts-nlp',
      'plinth-test-artifacts-vision',
      'plinth-test-log-archive',
      'plinth-test-tracking-artifacts',
    ]);
  });

  it.each(['vision', 'nlp'])(
    "grants team %s's role exactly its outputs (read, write) and logs (read), and the key",
    (team) => {
      expect(policyOf(`plinth-test-artifacts-${team}`)).toEqual(teamPolicy(team));
    },
  );

  it("lets exactly the accounts a team's runs may act as assume its role", () => {
    expect(trustedAccounts('plinth-test-artifacts-vision')).toEqual([
      'system:serviceaccount:plinth-vision:plinth-run',
      'system:serviceaccount:plinth-vision:pipeline',
    ]);
    expect(trustedAccounts('plinth-test-artifacts-nlp')).toEqual(['system:serviceaccount:plinth-nlp:plinth-run']);
    expect(trustedAccounts('plinth-test-tracking-artifacts')).toEqual(['system:serviceaccount:plinth:tracking']);
  });

  it("grants the tracking server every team's outputs and its own root, never the logs or Postgres's backups", () => {
    const resources = policyOf('plinth-test-tracking-artifacts').Statement.flatMap((s) => [s.Resource].flat());
    expect(resources.sort()).toEqual([BUCKET, `${BUCKET}/ml/mlflow/*`, `${BUCKET}/ml/outputs/*`, KEY].sort());
    const all = JSON.stringify(ofType(recorded, 'aws:iam/rolePolicy:RolePolicy').map((r) => r.inputs));
    expect(all).not.toContain('postgres');
  });
});
