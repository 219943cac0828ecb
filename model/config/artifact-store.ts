import { z } from 'zod';
import { dnsLabel, namedCidr, quantity } from './primitives.js';
import { resources } from './resources.js';

/** artifacts: where runs, logs, the tracking server and database backups write. */

/**
 * How long runs' logs and outputs are kept by default, in days, wherever the platform sets it: an
 * AWS bucket's lifecycle rules (`plinth:aws.retention`) and the platform's own store alike.
 */
export const DEFAULT_RETENTION_DAYS = { logs: 30, outputs: 365 } as const;

/**
 * The CIDRs the store's addresses are in, which runs, the tracking server and Postgres are let out
 * to on the store's port. Needed where the platform cannot derive them (model/artifacts.ts says when).
 */
const egressCidrs = z.array(namedCidr).min(1, { error: 'must list at least one CIDR' }).optional();

/**
 * The S3-compatible store the platform deploys itself, in its own namespace
 * (constructs/object-store.ts): versitygw on one claim, with a user per team and a bucket policy
 * that scopes each to its prefixes. The platform's own keys and each team's are derived from the
 * root keys, which the deployer writes into `rootSecret`; no key is ever in a manifest.
 */
export const objectStoreServer = z.strictObject({
  /** The claim every object, the bucket policy and the users live on. */
  storage: z
    .strictObject({ size: quantity.default('10Gi'), storageClass: z.string().min(1).optional() })
    .default({ size: '10Gi' }),
  /**
   * The Secret of the store's root keys, keys ROOT_ACCESS_KEY_ID and ROOT_SECRET_ACCESS_KEY
   * (model/names.ts OBJECT_STORE_ROOT_KEYS), in the platform namespace: `pulumi up` writes it from
   * `plinth:artifactStoreAdmin`, the local harness from a key of its own.
   */
  rootSecret: dnsLabel.default('object-store-admin'),
  /**
   * How long the store keeps runs' logs and outputs, by the age of each object, as an S3 bucket's
   * lifecycle rules would: versitygw has none, so a daily CronJob of the platform deletes what is
   * older (constructs/store-expiry.ts).
   */
  retention: z
    .strictObject({
      logsDays: z.number().int().min(1, { error: 'must be at least 1 day' }).default(DEFAULT_RETENTION_DAYS.logs),
      outputsDays: z.number().int().min(1, { error: 'must be at least 1 day' }).default(DEFAULT_RETENTION_DAYS.outputs),
    })
    .default({ logsDays: DEFAULT_RETENTION_DAYS.logs, outputsDays: DEFAULT_RETENTION_DAYS.outputs }),
  resources: resources.default({
    requests: { cpu: '100m', memory: '128Mi' },
    limits: { cpu: '1', memory: '1Gi' },
  }),
});
export type ObjectStoreServer = z.infer<typeof objectStoreServer>;

export const s3Store = z.strictObject({
  kind: z.literal('s3'),
  bucket: z.string().min(3),
  region: z.string().min(1),
  /**
   * For MinIO or another S3-compatible store; with `server`, exactly the platform's own store's
   * Service URL (model/names.ts objectStoreEndpoint).
   */
  endpoint: z.url().optional(),
  /** The platform deploys the store itself, in its namespace; without it the store is outside the platform's. */
  server: objectStoreServer.optional(),
  /** Prefix inside the bucket under which runs, logs and backups are written. */
  prefix: z.string().default('plinth'),
  egressCidrs,
  credentials: z.union(
    [
      z.strictObject({
        /**
         * The platform's keys (tracking server, Postgres backups); each team's runs read the same
         * keys from a Secret of their own (model/names.ts teamArtifactStoreSecretName).
         */
        secret: z.strictObject({
          name: z.string().min(1),
          accessKeyIdKey: z.string().default('AWS_ACCESS_KEY_ID'),
          secretAccessKeyKey: z.string().default('AWS_SECRET_ACCESS_KEY'),
        }),
      }),
      z.strictObject({
        workloadIdentity: z.strictObject({
          /** The tracking server's role: every team's outputs and the tracking root. */
          roleArn: z.string().min(1),
          /** Each team's role, by team name: its own prefixes, assumable by its run accounts only. */
          teamRoleArns: z.record(z.string(), z.string().min(1)).default({}),
          /**
           * The controller's role, with which it archives every run's logs: it writes the logs
           * prefix and nothing else (model/store-access.ts logArchiveStorePolicy).
           */
          logArchiveRoleArn: z.string().min(1),
        }),
      }),
    ],
    {
      error:
        'credentials must be { secret: { name } } or { workloadIdentity: { roleArn, teamRoleArns, logArchiveRoleArn } }',
    },
  ),
});

export const gcsStore = z.strictObject({
  kind: z.literal('gcs'),
  bucket: z.string().min(3),
  prefix: z.string().default('plinth'),
  egressCidrs,
  credentials: z.union(
    [
      z.strictObject({
        secret: z.strictObject({ name: z.string().min(1), key: z.string().default('credentials.json') }),
      }),
      z.strictObject({
        workloadIdentity: z.strictObject({
          /** The tracking server's Google service account: every team's outputs and the tracking root. */
          serviceAccount: z.email(),
          /** Each team's Google service account, by team name: its own prefixes only. */
          teamServiceAccounts: z.record(z.string(), z.email()).default({}),
        }),
      }),
    ],
    {
      error:
        'credentials must be { secret: { name } } or { workloadIdentity: { serviceAccount, teamServiceAccounts } }',
    },
  ),
});

export const volumeStore = z.strictObject({
  kind: z.literal('volume'),
  claimName: dnsLabel,
  size: quantity.default('100Gi'),
  storageClass: z.string().optional(),
});

export const artifactStore = z.discriminatedUnion('kind', [s3Store, gcsStore, volumeStore], {
  error: 'must be one of "s3", "gcs", "volume"',
});
export type ArtifactStore = z.infer<typeof artifactStore>;
