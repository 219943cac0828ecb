import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LogArchiveLocation } from '../../model/log-archive.js';

/**
 * What the archiver needs of the store: write a chunk, list an attempt's chunks, read the last one
 * back. An interface so that the archive's logic is tested against the real store in the cluster
 * suites and nothing else.
 */
export interface LogStore {
  put(key: string, body: string): Promise<void>;
  /** Every key under a prefix, in the store's (lexical) order. */
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<string>;
}

/**
 * The archive in an S3 or S3-compatible bucket, with the AWS SDK: its default credential chain
 * reads the controller's own credential, static keys from its env (a Secret's, never read through
 * the Kubernetes API) or its workload identity's web token. `endpoint` overrides the location's,
 * for a controller that runs outside the cluster (the tests, `npm run controller`).
 */
export function s3LogStore(location: LogArchiveLocation, endpoint?: string): LogStore {
  const url = endpoint ?? location.endpoint ?? undefined;
  const client = new S3Client({
    region: location.region,
    ...(url ? { endpoint: url, forcePathStyle: true } : {}),
    // The SDK retries throttling and 5xx itself; the archiver retries the rest from its resume point.
    maxAttempts: 5,
  });
  const Bucket = location.bucket;
  return {
    async put(key, body) {
      await client.send(
        new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: 'text/plain; charset=utf-8' }),
      );
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async get(key) {
      const object = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      return (await object.Body?.transformToString('utf-8')) ?? '';
    },
  };
}
