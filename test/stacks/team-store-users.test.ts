import { beforeAll, describe, expect, it } from 'vitest';
import { arnOfBucket, logArchiveStorePolicy, teamStorePolicy } from '../../model/store-access.js';
import {
  mockStack,
  ofType,
  policyViolationsOf,
  secretStringData,
  settled,
  type RecordedResource,
} from '../support/pulumi-mocks.js';
import { stackFileConfig } from '../support/stack-files.js';

// The cluster is out of reach here: Pulumi's runtime mocks record what the program registers.
let recorded: RecordedResource[];
const ADMIN = { accessKeyId: 'STOREADMIN0001', secretAccessKey: 'an-admin-s3cret-key' };
const PLATFORM = { accessKeyId: 'STOREPLATFORM0001', secretAccessKey: 'a-platform-s3cret-key' };

beforeAll(async () => {
  const config = {
    ...stackFileConfig('onprem'),
    'plinth:artifactCredentials': JSON.stringify(PLATFORM),
    'plinth:artifactStoreAdmin': JSON.stringify(ADMIN),
  };
  recorded = await mockStack('onprem', config, ['plinth:artifactCredentials', 'plinth:artifactStoreAdmin']);
  const { deployToCluster } = await import('../../stacks/deploy/deploy-to-cluster.js');
  const { readStackConfig } = await import('../../stacks/deploy/stack-config.js');
  deployToCluster(readStackConfig('onprem', config));
  await settled(recorded);
});

const secretOf = (name: string) => secretStringData(recorded, name);
const objectOf = (kind: string, name: string) =>
  recorded.find((r) => r.type.endsWith(`:${kind}`) && r.name === name)?.inputs as Record<string, any> | undefined;

describe('pulumi up -s onprem with MinIO admin keys (Pulumi mocks of the cluster)', () => {
  it("writes the platform's keys into the platform namespace only", () => {
    expect(secretOf('plinth/artifact-store')).toEqual({
      AWS_ACCESS_KEY_ID: PLATFORM.accessKeyId,
      AWS_SECRET_ACCESS_KEY: PLATFORM.secretAccessKey,
    });
    const names = ofType(recorded, 'kubernetes:core/v1:Secret').map((r) => r.name);
    expect(names.filter((n) => n.endsWith('/artifact-store'))).toEqual(['plinth/artifact-store']);
  });

  it('writes each team a Secret of its own, with a user of its own and a key no other team has', () => {
    const vision = secretOf('plinth-vision/artifact-store-vision');
    const nlp = secretOf('plinth-nlp/artifact-store-nlp');
    expect(vision['AWS_ACCESS_KEY_ID']).toBe('plinth-onprem-vision');
    expect(nlp['AWS_ACCESS_KEY_ID']).toBe('plinth-onprem-nlp');
    for (const key of [vision['AWS_SECRET_ACCESS_KEY'], nlp['AWS_SECRET_ACCESS_KEY']])
      expect(key).toMatch(/^[0-9a-f]{40}$/);
    expect(vision['AWS_SECRET_ACCESS_KEY']).not.toBe(nlp['AWS_SECRET_ACCESS_KEY']);
    // The Job's Secret holds the admin's keys and each team's, for the store to learn them.
    expect(secretOf('plinth/artifact-store-users')).toEqual({
      'admin-access-key-id': ADMIN.accessKeyId,
      'admin-secret-access-key': ADMIN.secretAccessKey,
      'log-archive': secretOf('plinth/log-archive')['AWS_SECRET_ACCESS_KEY'],
      'team-vision': vision['AWS_SECRET_ACCESS_KEY'],
      'team-nlp': nlp['AWS_SECRET_ACCESS_KEY'],
    });
  });

  it("plans each team's user with a policy on the team's prefixes only, and the log archive's on the logs", () => {
    const plan = objectOf('ConfigMap', 'ConfigMap/plinth/artifact-store-users')!['data'] as Record<string, string>;
    expect(plan['log-archive-user']).toBe('plinth-onprem--logs\n');
    expect(JSON.parse(plan['policy-log-archive.json']!)).toEqual(
      logArchiveStorePolicy(arnOfBucket('plinth-artifacts'), 'plinth'),
    );
    expect(secretOf('plinth/log-archive')['AWS_ACCESS_KEY_ID']).toBe('plinth-onprem--logs');
    expect(plan['teams']).toBe('vision plinth-onprem-vision\nnlp plinth-onprem-nlp\n');
    for (const team of ['vision', 'nlp']) {
      expect(JSON.parse(plan[`policy-${team}.json`]!)).toEqual(
        teamStorePolicy(arnOfBucket('plinth-artifacts'), 'plinth', team),
      );
    }
  });

  it('runs the Job without a token, on the core pool, out to the store only, rerun when a key changes', () => {
    const job = objectOf('Job', 'Job/plinth/artifact-store-users')!;
    const pod = job['spec']['template'];
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.nodeSelector).toEqual({ 'plinth.dev/pool': 'core' });
    expect(pod.spec.containers[0].env).toEqual([
      { name: 'STORE_ENDPOINT', value: 'https://s3.storage.internal:9000' },
      { name: 'MC_CONFIG_DIR', value: '/tmp/mc' },
    ]);
    expect(pod.metadata.annotations['plinth.dev/keys-revision']).toMatch(/^[0-9a-f]{16}$/);
    const policy = objectOf('NetworkPolicy', 'NetworkPolicy/plinth/allow-artifact-store-users')!;
    expect(policy['spec']['egress']).toEqual([
      { to: [{ ipBlock: { cidr: '10.30.0.0/24' } }], ports: [{ protocol: 'TCP', port: 9000 }] },
    ]);
  });

  it('puts no key anywhere but in Secrets', () => {
    const secrets = Object.values(secretOf('plinth/artifact-store-users'));
    const elsewhere = JSON.stringify(
      recorded.filter((r) => r.type !== 'kubernetes:core/v1:Secret').map((r) => r.inputs),
    );
    const leaked = [...secrets, PLATFORM.accessKeyId, PLATFORM.secretAccessKey].filter((v) => elsewhere.includes(v));
    expect(leaked).toEqual([]);
  });

  it('passes every policy rule', () => {
    expect(policyViolationsOf(recorded)).toEqual([]);
  });
});
