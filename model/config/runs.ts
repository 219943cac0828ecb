import { z } from 'zod';
import { duration } from './duration.js';
import { dnsSubdomain } from './primitives.js';

/** runs: how the platform runs the teams' runs, whatever their team. */

/**
 * The highest value a run priority class may have. Kubernetes keeps values above one billion for
 * its system classes (system-cluster-critical, system-node-critical), which preempt anything.
 */
export const MAX_RUN_PRIORITY = 1_000_000_000;

/** A PriorityClass the platform creates for runs, which teams may name as their config allows. */
export const runPriorityClass = z.strictObject({
  name: dnsSubdomain.refine((name) => !name.startsWith('system-'), {
    error: 'must not start with "system-": Kubernetes keeps those names for its own classes',
  }),
  value: z
    .number()
    .int()
    .min(-MAX_RUN_PRIORITY, { error: `must be at least ${-MAX_RUN_PRIORITY}` })
    .max(MAX_RUN_PRIORITY, {
      error: `must be at most ${MAX_RUN_PRIORITY}: higher values are Kubernetes' system classes`,
    }),
  description: z.string().default(''),
  /**
   * Whether pods of the class evict lower-priority pods to make room. Off by default: a team's
   * urgent run should wait for room, not end another team's running job.
   */
  preempts: z.boolean().default(false),
});
export type RunPriorityClass = z.infer<typeof runPriorityClass>;

/** Long enough to look at a week's runs, short enough that no team stores Runs without bound. */
const RUN_RETENTION = '7d';

export const runs = z
  .strictObject({
    /** Where runs that name no pool go: a CPU pool, since a GPU pool takes only runs that ask for GPUs. */
    defaultPool: z.string().default('cpu'),
    /** The PriorityClasses runs may name; none by default, so every run has the default priority. */
    priorityClasses: z.array(runPriorityClass).default([]),
    /** How long the controller keeps a finished top-level run (and what it owns) after it finished. */
    retention: duration.default(RUN_RETENTION),
  })
  .default({ defaultPool: 'cpu', priorityClasses: [], retention: RUN_RETENTION });
