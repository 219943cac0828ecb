import { beforeAll, describe, expect, it } from 'vitest';
import { logArchiveSecretKey, platformSecretKey, teamSecretKey } from '../../model/store-access.js';
import {
  mockStack,
  policyViolationsOf,
  secretStringData,
  settled,
  type RecordedResource,
} from '../support/pulumi-mocks.js';
import { stackFileConfig } from '../support/stack-files.js';

// The cluster is out of reach here: Pulumi's runtime mocks record what the program registers.
let recorded: RecordedResource[];
const ROOT = { accessKeyId: 'plinth-root', secretAccessKey: 'a-root-s3cret-key' };
const config = { ...stackFileConfig('local'), 'plinth:artifactStoreAdmin': JSON.stringify(ROOT) };

beforeAll(async () => {
  recorded = await mockStack('local', config, ['plinth:artifactStoreAdmin']);
  const { deployToCluster } = await import('../../stacks/deploy/deploy-to-cluster.js');
  const { readStackConfig } = await import('../../stacks/deploy/stack-config.js');
  deployToCluster(readStackConfig('local', config));
  await settled(recorded);
});

const secretOf = (name: string) => secretStringData(recorded, name);
const named = (kind: string, name: string) => recorded.filter((r) => r.type.endsWith(`:${kind}`) && r.name === name);

describe("pulumi up -s local, whose store is the platform's own (Pulumi mocks of the cluster)", () => {
  it("writes the store's root keys, and the platform's keys derived from them, into the platform namespace", () => {
    expect(secretOf('plinth/object-store-admin')).toEqual({
      ROOT_ACCESS_KEY_ID: ROOT.accessKeyId,
      ROOT_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    });
    expect(secretOf('plinth/artifact-store')).toEqual({
      AWS_ACCESS_KEY_ID: 'plinth-local',
      AWS_SECRET_ACCESS_KEY: platformSecretKey(ROOT.secretAccessKey, 'local'),
    });
  });

  it("gives the chart's Job each user's key, and each team the same key, under its own user", () => {
    const vision = teamSecretKey(ROOT.secretAccessKey, 'local', 'vision');
    const nlp = teamSecretKey(ROOT.secretAccessKey, 'local', 'nlp');
    const logs = logArchiveSecretKey(ROOT.secretAccessKey, 'local');
    expect(secretOf('plinth/artifact-store-users')).toEqual({
      platform: platformSecretKey(ROOT.secretAccessKey, 'local'),
      'log-archive': logs,
      'team-vision': vision,
      'team-nlp': nlp,
    });
    // The controller's own credential, which writes the logs and nothing else.
    expect(secretOf('plinth/log-archive')).toEqual({
      AWS_ACCESS_KEY_ID: 'plinth-local--logs',
      AWS_SECRET_ACCESS_KEY: logs,
    });
    expect(secretOf('plinth-vision/artifact-store-vision')).toEqual({
      AWS_ACCESS_KEY_ID: 'plinth-local-vision',
      AWS_SECRET_ACCESS_KEY: vision,
    });
    expect(secretOf('plinth-nlp/artifact-store-nlp')['AWS_ACCESS_KEY_ID']).toBe('plinth-local-nlp');
  });

  it("runs the chart's Job once, again whenever a key changes, and no MinIO Job beside it", () => {
    const jobs = named('Job', 'Job/plinth/artifact-store-users');
    expect(jobs).toHaveLength(1);
    const pod = (jobs[0]!.inputs as Record<string, any>)['spec']['template'];
    expect(pod.metadata.annotations['plinth.dev/keys-revision']).toMatch(/^[0-9a-f]{16}$/);
    expect(pod.spec.containers[0].image).toMatch(/\/init:/);
    expect(named('ConfigMap', 'ConfigMap/plinth/artifact-store-users')).toHaveLength(1);
  });

  it('puts no key anywhere but in Secrets', () => {
    const keys = [
      ROOT.secretAccessKey,
      platformSecretKey(ROOT.secretAccessKey, 'local'),
      ...['vision', 'nlp'].map((t) => teamSecretKey(ROOT.secretAccessKey, 'local', t)),
    ];
    const elsewhere = JSON.stringify(
      recorded.filter((r) => r.type !== 'kubernetes:core/v1:Secret').map((r) => r.inputs),
    );
    expect(keys.filter((k) => elsewhere.includes(k))).toEqual([]);
  });

  it("refuses the platform's keys as config, and requires the root keys, naming the key", async () => {
    const { deployToCluster } = await import('../../stacks/deploy/deploy-to-cluster.js');
    const { readStackConfig } = await import('../../stacks/deploy/stack-config.js');
    const attempt = (stackConfig: Record<string, string>) => () =>
      deployToCluster(readStackConfig('local', stackConfig));
    const withKeys = { ...config, 'plinth:artifactCredentials': JSON.stringify(ROOT) };
    expect(attempt(withKeys)).toThrow(
      "plinth:artifactCredentials: this environment's store is the platform's own (artifacts.server)",
    );
    expect(attempt(stackFileConfig('local'))).toThrow('plinth:artifactStoreAdmin: must be set');
  });

  it('passes every policy rule', () => {
    expect(policyViolationsOf(recorded)).toEqual([]);
  });
});
