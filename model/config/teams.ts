import { z } from 'zod';
import { dnsLabel, dnsSubdomain, quantity } from './primitives.js';

/** teams: who may run what, with which quota, on which pools and connections. */

/** A user or group as the cluster's authentication names it. */
export const subject = z.strictObject({
  kind: z.enum(['User', 'Group']),
  name: z.string().min(1),
});

export const member = subject.extend({
  role: z.enum(['admin', 'editor', 'viewer'], { error: 'must be one of "admin", "editor", "viewer"' }),
});

const count = z.number().int().min(0, { error: 'must be 0 or more' });

export const teamQuota = z.strictObject({
  cpu: quantity,
  memory: quantity,
  gpu: z.number().int().min(0, { error: 'must be 0 or more' }),
  maxConcurrentRuns: z.number().int().min(0, { error: 'must be 0 or more' }),
  /**
   * Counts of objects the team may hold at once, so that no team fills the nodes' pod slots or the
   * controller's memory. `runs` counts every Run object, parents and children alike; each service
   * run has a Service, and an external one an Ingress.
   */
  pods: count.default(200),
  services: count.default(50),
  ingresses: count.default(50),
  runs: count.default(2000),
});

/** An account in the team namespace that the team's runs may act as: the platform creates it. */
export const teamServiceAccount = z.strictObject({
  name: dnsSubdomain,
  /** Whether a run acting as it gets its token mounted; only a run that calls the API needs it. */
  mountToken: z.boolean().default(false),
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
  /** Priority classes the team's runs may name, among runs.priorityClasses; defaults to all of them. */
  priorityClasses: z.array(z.string()).optional(),
  /**
   * Accounts the team's runs may act as, besides the platform's run account (no API access, no
   * token). None by default: an account of a team's choosing would carry whatever a team admin binds to it.
   */
  serviceAccounts: z.array(teamServiceAccount).default([]),
});
export type Team = z.infer<typeof team>;
/** A team as an environment file writes it: defaults may be left out. */
export type TeamInput = z.input<typeof team>;
