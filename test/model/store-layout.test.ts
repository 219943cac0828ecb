import { describe, expect, it } from 'vitest';
import {
  arnOfBucket,
  bucketPolicyOf,
  platformSecretKey,
  platformStorePolicy,
  teamSecretKey,
  teamStorePolicy,
  trackingStorePolicy,
  type PolicyDocument,
} from '../../model/store-access.js';
import {
  databaseBackupsPrefix,
  logsPrefix,
  outputsPrefix,
  runLogsPrefix,
  runOutputsPrefix,
  storeRoot,
  storeUri,
  teamLogsPrefix,
  teamOutputsPrefix,
  trackingPrefix,
} from '../../model/store-layout.js';

describe('the store layout', () => {
  it('puts logs and outputs under <prefix>/<kind>/<team>/<run-uid>/', () => {
    expect(runLogsPrefix('plinth', 'vision', 'uid-1')).toBe('plinth/logs/vision/uid-1/');
    expect(runOutputsPrefix('plinth', 'vision', 'uid-1')).toBe('plinth/outputs/vision/uid-1/');
    expect(teamLogsPrefix('plinth', 'vision')).toBe('plinth/logs/vision/');
    expect(teamOutputsPrefix('plinth', 'vision')).toBe('plinth/outputs/vision/');
    expect([logsPrefix('plinth'), outputsPrefix('plinth'), storeRoot('plinth')]).toEqual([
      'plinth/logs/',
      'plinth/outputs/',
      'plinth/',
    ]);
    expect([trackingPrefix('plinth'), databaseBackupsPrefix('plinth')]).toEqual(['plinth/mlflow/', 'plinth/postgres/']);
  });

  it('reads a prefix with slashes or none as the same place, and none as the bucket root', () => {
    expect(teamOutputsPrefix('/a/b/', 'vision')).toBe('a/b/outputs/vision/');
    expect(teamOutputsPrefix('', 'vision')).toBe('outputs/vision/');
    expect(storeRoot('')).toBe('');
    expect(storeUri('s3', 'bucket', 'plinth/outputs/vision/')).toBe('s3://bucket/plinth/outputs/vision');
    expect(storeUri('gs', 'bucket', '')).toBe('gs://bucket');
  });
});

/** Whether a policy lets `action` on `key` (object actions) or on a listing of `key` (s3:ListBucket). */
function allows(policy: PolicyDocument, action: string, key: string): boolean {
  const bucket = arnOfBucket('b');
  const like = (pattern: string, value: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.?+^$()[\]{}|\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(value);
  return policy.Statement.some((s) => {
    if (s.Effect !== 'Allow' || ![s.Action].flat().includes(action)) return false;
    if (action === 's3:ListBucket') {
      // Without a condition, a listing of any prefix, or of none (HeadBucket).
      const prefixes = (s.Condition?.['StringLike']?.['s3:prefix'] as string[] | undefined) ?? ['*'];
      return s.Resource === bucket && prefixes.some((p) => like(p, key));
    }
    return [s.Resource ?? []].flat().some((r) => like(r, `${bucket}/${key}`));
  });
}

describe('what each credential of the store may do', () => {
  const vision = teamStorePolicy(arnOfBucket('b'), 'plinth', 'vision');
  const tracking = trackingStorePolicy(arnOfBucket('b'), 'plinth');

  it('lets a team read and write its outputs and read its logs, and list only those', () => {
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'])
      expect(allows(vision, action, 'plinth/outputs/vision/uid-1/model.pt')).toBe(true);
    expect(allows(vision, 's3:GetObject', 'plinth/logs/vision/uid-1/main.log')).toBe(true);
    expect(allows(vision, 's3:PutObject', 'plinth/logs/vision/uid-1/main.log')).toBe(false);
    expect(allows(vision, 's3:ListBucket', 'plinth/outputs/vision/')).toBe(true);
    expect(allows(vision, 's3:ListBucket', 'plinth/outputs/')).toBe(false);
  });

  it("keeps a team out of every other team's prefixes, even one whose name starts with its own", () => {
    for (const key of [
      'plinth/outputs/vision2/x',
      'plinth/outputs/nlp/x',
      'plinth/logs/nlp/x',
      'plinth/logs/vision2/x',
    ]) {
      expect(allows(vision, 's3:GetObject', key)).toBe(false);
      expect(allows(vision, 's3:PutObject', key)).toBe(false);
      expect(allows(vision, 's3:ListBucket', key)).toBe(false);
    }
  });

  it("keeps teams and the tracking server out of Postgres's backups", () => {
    const backup = `${databaseBackupsPrefix('plinth')}plinth-db/wals/0000000100000000/000000010000000000000001.gz`;
    for (const policy of [vision, tracking]) {
      expect(allows(policy, 's3:GetObject', backup)).toBe(false);
      expect(allows(policy, 's3:ListBucket', databaseBackupsPrefix('plinth'))).toBe(false);
    }
  });

  it("lets the tracking server read and write every team's outputs and its root, and no logs", () => {
    expect(allows(tracking, 's3:PutObject', 'plinth/outputs/nlp/1/artifacts/model.pkl')).toBe(true);
    expect(allows(tracking, 's3:PutObject', 'plinth/mlflow/0/abc/artifacts/x')).toBe(true);
    expect(allows(tracking, 's3:GetObject', 'plinth/logs/vision/uid-1/main.log')).toBe(false);
  });
});

describe("the platform's credential, where the platform makes it (its own store)", () => {
  const platform = platformStorePolicy(arnOfBucket('b'), 'plinth');
  const backup = `${databaseBackupsPrefix('plinth')}plinth-db/wals/0000000100000000/000000010000000000000001.gz`;

  it("serves tracking and Postgres's backups alike, and reads no logs", () => {
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) {
      expect(allows(platform, action, backup)).toBe(true);
      expect(allows(platform, action, 'plinth/mlflow/0/abc/artifacts/x')).toBe(true);
      expect(allows(platform, action, 'plinth/outputs/vision/uid-1/model.pt')).toBe(true);
      expect(allows(platform, action, 'plinth/logs/vision/uid-1/main.log')).toBe(false);
    }
  });

  it('lists the bucket with no prefix, as barman-cloud asks whether the bucket exists', () => {
    expect(allows(platform, 's3:ListBucket', '')).toBe(true);
  });
});

describe('one bucket policy for every user', () => {
  const bucket = arnOfBucket('b');
  const policy = bucketPolicyOf([
    { principal: 'plinth-x', sidSuffix: 'Platform', policy: platformStorePolicy(bucket, 'plinth') },
    { principal: 'plinth-x-vision', sidSuffix: 'TeamVision', policy: teamStorePolicy(bucket, 'plinth', 'vision') },
  ]);

  it("names each grant's user as Principal of its statements, which are otherwise the same", () => {
    const team = teamStorePolicy(bucket, 'plinth', 'vision').Statement;
    expect(policy.Statement.slice(-team.length)).toEqual(
      team.map((s) => ({ ...s, Sid: `${s.Sid}TeamVision`, Principal: { AWS: ['plinth-x-vision'] } })),
    );
    expect(policy.Statement.filter((s) => JSON.stringify(s.Principal).includes('"plinth-x"'))).toHaveLength(
      platformStorePolicy(bucket, 'plinth').Statement.length,
    );
    const sids = policy.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
  });
});

describe('derived keys', () => {
  it("gives the platform a key of its own, which no team's is, even a team named platform", () => {
    const admin = 'an-admin-secret';
    expect(platformSecretKey(admin, 'local')).toMatch(/^[0-9a-f]{40}$/);
    expect(platformSecretKey(admin, 'local')).not.toBe(teamSecretKey(admin, 'local', 'platform'));
    expect(platformSecretKey(admin, 'local')).not.toBe(platformSecretKey(admin, 'onprem'));
    expect(platformSecretKey(admin, 'local')).toBe(platformSecretKey(admin, 'local'));
  });
});
