import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { logsPrefix, outputsPrefix, storeRoot } from '../../../model/store-layout.js';
import type { AwsStackConfig } from '../stack-config.js';
import { tlsOnlyBucketPolicy } from './iam-policies.js';

export interface ArtifactBucketArgs {
  /** Prefix runs, logs and backups are written under (artifacts.prefix), laid out by model/store-layout.ts. */
  readonly prefix: string;
  readonly retention: AwsStackConfig['retention'];
  readonly production: boolean;
  readonly tags: Record<string, string>;
}

/**
 * The artifact store: versioned, encrypted with its own KMS key, never public, TLS only, and
 * with lifecycle rules that expire logs and outputs after their retention.
 */
export class ArtifactBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly key: aws.kms.Key;

  constructor(name: string, args: ArtifactBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:ArtifactBucket', name, {}, opts);
    const parent = { parent: this };
    this.key = new aws.kms.Key(
      `${name}-artifacts`,
      { description: `${name}: artifact store encryption`, enableKeyRotation: true, tags: args.tags },
      parent,
    );
    this.bucket = new aws.s3.Bucket(
      `${name}-artifacts`,
      { forceDestroy: !args.production, tags: args.tags },
      { ...parent, protect: args.production },
    );
    const bucket = this.bucket.id;
    new aws.s3.BucketPublicAccessBlock(
      `${name}-artifacts`,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketVersioning(
      `${name}-artifacts`,
      { bucket, versioningConfiguration: { status: 'Enabled' } },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-artifacts`,
      {
        bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: this.key.arn },
            bucketKeyEnabled: true,
          },
        ],
      },
      parent,
    );
    new aws.s3.BucketPolicy(
      `${name}-artifacts`,
      { bucket, policy: this.bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      parent,
    );
    const { retention, prefix } = args;
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-artifacts`,
      {
        bucket,
        rules: [
          {
            id: 'expire-logs',
            status: 'Enabled',
            filter: { prefix: logsPrefix(prefix) },
            expiration: { days: retention.logsDays },
          },
          {
            id: 'expire-outputs',
            status: 'Enabled',
            filter: { prefix: outputsPrefix(prefix) },
            expiration: { days: retention.outputsDays },
          },
          {
            id: 'noncurrent-versions',
            status: 'Enabled',
            filter: { prefix: storeRoot(prefix) },
            noncurrentVersionExpiration: { noncurrentDays: retention.noncurrentDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      parent,
    );
    this.registerOutputs({ bucket: this.bucket.bucket });
  }
}
