import { z } from 'zod';
import { dnsLabel, quantity } from './primitives.js';

/** teams: who may run what, with which quota, on which pools and connections. */

export const member = z.strictObject({
  kind: z.enum(['User', 'Group']),
  name: z.string().min(1),
  role: z.enum(['admin', 'editor', 'viewer'], { error: 'must be one of "admin", "editor", "viewer"' }),
});

export const teamQuota = z.strictObject({
  cpu: quantity,
  memory: quantity,
  gpu: z.number().int().min(0, { error: 'must be 0 or more' }),
  maxConcurrentRuns: z.number().int().min(0, { error: 'must be 0 or more' }),
});

export const team = z.strictObject({
  name: dnsLabel,
  members: z.array(member).default([]),
  quota: teamQuota,
  /** Pools the team's runs may use; defaults to every cpu and gpu pool. */
  pools: z.array(z.string()).optional(),
  /** Where the team's runs that name no pool go; defaults to runs.defaultPool if the team may use it, else its first cpu pool. */
  defaultPool: z.string().optional(),
  /** Where the team's runs that name no pool but ask for GPUs go; defaults to the team's first GPU pool. */
  defaultGpuPool: z.string().optional(),
  /** Connections the team's runs may name; defaults to every connection. */
  connections: z.array(z.string()).optional(),
});
export type Team = z.infer<typeof team>;
