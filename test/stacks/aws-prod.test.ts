import { beforeAll, describe, expect, it } from 'vitest';
import { mockStack, ofType, settled, type RecordedResource } from '../support/pulumi-mocks.js';
import { PLATFORM_IMAGE_PULL_POLICY } from '../../model/images.js';
import { stackFileConfig, stackFileImages } from '../support/stack-files.js';

// AWS is out of reach here: Pulumi's runtime mocks stand in for it (see test/support/pulumi-mocks.ts).
let recorded: RecordedResource[];

beforeAll(async () => {
  const config = {
    ...stackFileConfig('aws-prod'),
    'plinth:databasePassword': 'a-long-production-password',
  };
  recorded = await mockStack('aws-prod', config, ['plinth:databasePassword']);
  const { deployAws } = await import('../../stacks/deploy/aws/deploy-aws.js');
  const { readStackConfig } = await import('../../stacks/deploy/stack-config.js');
  deployAws(readStackConfig('aws-prod', config));
  await settled(recorded);
});

describe('the aws-prod stack (Pulumi mocks)', () => {
  it('protects the database from deletion and keeps a final snapshot', () => {
    const [db] = ofType(recorded, 'aws:rds/instance:Instance').map((r) => r.inputs);
    expect(db).toMatchObject({
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: 'plinth-aws-prod-final',
      multiAz: true,
      storageEncrypted: true,
      backupRetentionPeriod: 30,
    });
  });

  it('keeps the artifact bucket when the stack is destroyed', () => {
    const [bucket] = ofType(recorded, 'aws:s3/bucket:Bucket').map((r) => r.inputs);
    expect(bucket!['forceDestroy']).toBe(false);
  });

  it('gives each availability zone its own NAT gateway', () => {
    expect(ofType(recorded, 'aws:ec2/natGateway:NatGateway')).toHaveLength(3);
  });

  it('deploys the images its stack file pins by digest', () => {
    const pins = stackFileImages('aws-prod');
    const containers = (name: string) => {
      const deployment = recorded.find(
        (r) => r.type === 'kubernetes:apps/v1:Deployment' && (r.inputs as any).metadata?.name === name,
      );
      return (deployment?.inputs as any)?.spec.template.spec.containers as { image: string; imagePullPolicy: string }[];
    };
    expect(containers('controller')).toMatchObject([
      { image: pins['controller'], imagePullPolicy: PLATFORM_IMAGE_PULL_POLICY },
    ]);
    expect(containers('tracking')).toMatchObject([
      { image: pins['trackingServer'], imagePullPolicy: PLATFORM_IMAGE_PULL_POLICY },
    ]);
  });
});
