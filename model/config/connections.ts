import { z } from 'zod';
import { cidr, dnsLabel, envName, mountPath } from './primitives.js';

/** A Secret or ConfigMap in each team namespace: its keys become env, or its files appear at mountPath. */
export const namespacedSource = z.strictObject({ name: dnsLabel, mountPath: mountPath.optional() });

/**
 * A platform connection (Polyaxon's term) that runs name in `spec.connections`: a dataset volume, a
 * model hub, a git host. Its Secret or ConfigMap (made by the team's admins) or volume claim (made by
 * platform engineers) lives in each team namespace, so no credential passes through the config.
 */
export const connection = z
  .strictObject({
    /** Part of the pod's volume names (`conn-<name>-secret`), hence shorter than a DNS label. */
    name: dnsLabel.max(50, { error: 'must be at most 50 characters' }),
    description: z.string().optional(),
    /** Plain settings, such as a bucket URI; never credentials, which belong in the Secret. */
    env: z
      .record(
        envName.refine((n) => !n.startsWith('PLINTH_'), { error: 'PLINTH_ variables are set by the platform' }),
        z.string(),
      )
      .default({}),
    secret: namespacedSource.optional(),
    configMap: namespacedSource.optional(),
    /** A PersistentVolumeClaim, such as a shared dataset volume; read-only unless said otherwise. */
    volumeClaim: z.strictObject({ claimName: dnsLabel, mountPath, readOnly: z.boolean().default(true) }).optional(),
    /**
     * What the team namespaces' default-deny NetworkPolicies let out, for the pods of runs that
     * name the connection only: TCP ports, to any address or only to the CIDRs in `to`.
     */
    egress: z
      .strictObject({
        ports: z
          .array(
            z.number().int().min(1, { error: 'must be a port from 1 to 65535' }).max(65535, {
              error: 'must be a port from 1 to 65535',
            }),
          )
          .min(1, { error: 'must list at least one port' })
          .max(16),
        to: z.array(cidr).default([]),
      })
      .optional(),
  })
  .refine((c) => Object.keys(c.env).length > 0 || c.secret || c.configMap || c.volumeClaim || c.egress, {
    error: 'gives a run nothing: set env, secret, configMap, volumeClaim or egress',
  });
export type Connection = z.infer<typeof connection>;
export type ConnectionInput = z.input<typeof connection>;
