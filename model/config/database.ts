import { z } from 'zod';
import { CNPG_OPERATOR_NAMESPACE } from '../names.js';
import { dnsLabel, quantity } from './primitives.js';
import { resources } from './resources.js';

/** database: the tracking server's Postgres, run by CloudNativePG or external. */

export const cloudNativePg = z.strictObject({
  kind: z.literal('cloudnative-pg'),
  instances: z.number().int().min(1, { error: 'must be at least 1' }).default(3),
  storage: z.strictObject({ size: quantity, storageClass: z.string().optional() }).default({ size: '20Gi' }),
  resources: resources.default({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } }),
  /** Where the CloudNativePG operator runs: the platform namespace admits it to the Postgres instances. */
  operatorNamespace: dnsLabel.default(CNPG_OPERATOR_NAMESPACE),
  /** Synchronous standbys that must confirm each commit; 0 turns synchronous replication off (local only). */
  synchronousReplicas: z.number().int().min(0).default(1),
  backup: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Six-field cron (seconds first), as CloudNativePG expects. */
      schedule: z.string().default('0 0 2 * * *'),
      retention: z
        .string()
        .regex(/^[1-9][0-9]*[dwm]$/, { error: 'must be a number of days, weeks or months, e.g. "30d"' })
        .default('30d'),
    })
    .default({ enabled: true, schedule: '0 0 2 * * *', retention: '30d' }),
});

export const externalDatabase = z.strictObject({
  kind: z.literal('external'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(5432),
  database: z.string().min(1).default('plinth'),
  sslMode: z.enum(['require', 'verify-ca', 'verify-full']).default('require'),
  /** A Secret in the platform namespace with `username` and `password` keys. */
  credentialsSecret: z.string().min(1),
});

export const database = z.discriminatedUnion('kind', [cloudNativePg, externalDatabase], {
  error: 'must be one of "cloudnative-pg", "external"',
});
export type Database = z.infer<typeof database>;
