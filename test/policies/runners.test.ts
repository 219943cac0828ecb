import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateSynthesizedManifests } from '../../policies/cdk8s/validation.js';
import { stackPolicies } from '../../policies/pulumi/policies.js';
import { objectsOf } from '../support/platform.js';
import type { PulumiResource } from '../../policies/pulumi/resources.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the cdk8s validation plugin', () => {
  it('fails `cdk8s synth` on a bad construct, naming the rule and the object', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plinth-cdk8s-'));
    try {
      const app = join(ROOT, 'test', 'policies', 'fixtures', 'bad-app.ts');
      const synth = spawnSync(
        join(ROOT, 'node_modules', '.bin', 'cdk8s'),
        ['synth', '--app', `${join(ROOT, 'node_modules', '.bin', 'tsx')} ${app}`, '--output', join(dir, 'out')],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, CI: 'true' },
        },
      );
      const output = synth.stdout + synth.stderr;
      expect(synth.status, output).not.toBe(0);
      expect(output).toContain('pod-no-host-access');
      expect(output).toContain('image-pinned');
      expect(output).toContain('Deployment default/web');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the cdk8s validation plugin (context stand-in)', () => {
  it('fails on errors only: warnings are logged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plinth-cdk8s-'));
    try {
      // A team's objects, with the guards its namespace needs: clean but for the team's store Secret.
      const team = objectsOf('local').filter(
        (o) =>
          (o.metadata.namespace ?? o.metadata.name) === 'plinth-nlp' || o.kind.startsWith('ValidatingAdmissionPolicy'),
      );
      const manifest = join(dir, 'team.yaml');
      await writeFile(manifest, team.map((o) => stringify(o)).join('---\n'));
      const logged: string[] = [];
      const statuses: string[] = [];
      const violations: string[] = [];
      await validateSynthesizedManifests(
        {
          manifests: [manifest],
          report: {
            addViolation: (v) => violations.push(v.ruleName),
            submit: (status) => statuses.push(status),
          },
          logger: { log: (message) => logged.push(message) },
        },
        {},
      );
      expect(violations).toEqual([]);
      expect(statuses).toEqual(['success']);
      expect(logged).toContainEqual(
        expect.stringMatching(/^warning team-artifact-credentials on Namespace plinth-nlp: /),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The policy pack under a stand-in for the Pulumi engine: the engine itself cannot run here, so
 * the test hands the pack's stack policies the resources a preview would, and collects what they
 * report. This is the only mock in the policy tests.
 */
describe('the Pulumi policy pack (engine stand-in)', () => {
  function validate(resources: PulumiResource[], production = true) {
    const reported: { policy: string; message: string; urn?: string }[] = [];
    for (const policy of stackPolicies({ environment: 'aws', production })) {
      void policy.validateStack?.({ resources } as never, (message: string, urn?: string) =>
        reported.push({ policy: policy.name, message, urn }),
      );
    }
    return reported;
  }
  const urn = (type: string, name: string) => `urn:pulumi:aws-prod::plinth::${type}::${name}`;

  it('fails a single-AZ, unencrypted database in production, naming the resource', () => {
    const type = 'aws:rds/instance:Instance';
    const reported = validate([
      { type, name: 'plinth-db', urn: urn(type, 'plinth-db'), props: { multiAz: false, storageEncrypted: false } },
    ]);
    expect(reported.map((r) => r.policy).sort()).toEqual(['rds-encrypted', 'rds-multi-az']);
    expect(reported[0]?.message).toContain('aws:rds/instance:Instance plinth-db');
    expect(reported[0]?.urn).toBe(urn(type, 'plinth-db'));
  });

  it('checks the Kubernetes objects of a stack as manifests', () => {
    const type = 'kubernetes:core/v1:ServiceAccount';
    const reported = validate([
      {
        type,
        name: 'run-sa',
        urn: urn(type, 'run-sa'),
        props: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'plinth-run', namespace: 'plinth-vision' },
        },
      },
    ]);
    expect(reported).toEqual([
      expect.objectContaining({
        policy: 'run-service-account-no-token',
        message: expect.stringContaining('ServiceAccount plinth-vision/plinth-run'),
      }),
    ]);
  });

  it('passes a protected bucket', () => {
    const bucket = urn('aws:s3/bucketV2:BucketV2', 'artifacts');
    const child = (type: string, name: string, props: Record<string, unknown>): PulumiResource => ({
      type,
      name,
      urn: urn(type, name),
      props,
      dependencies: [{ urn: bucket }],
    });
    expect(
      validate([
        { type: 'aws:s3/bucketV2:BucketV2', name: 'artifacts', urn: bucket, props: {} },
        child('aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2', 'sse', {
          rules: [{}],
        }),
        child('aws:s3/bucketVersioningV2:BucketVersioningV2', 'versioning', {
          versioningConfiguration: { status: 'Enabled' },
        }),
        child('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'block', {
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        }),
      ]),
    ).toEqual([]);
  });
});
