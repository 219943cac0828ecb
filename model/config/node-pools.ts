import { z } from 'zod';
import { GPU_TAINT } from '../pools.js';

/** nodePools: where the platform and its runs are scheduled. */

export const taint = z.strictObject({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});
export type Taint = z.infer<typeof taint>;

export const poolSize = z
  .strictObject({
    min: z.number().int().min(0, { error: 'must be 0 or more' }),
    max: z.number().int().min(0, { error: 'must be 0 or more' }),
  })
  .refine((s) => s.max >= s.min, { error: 'max must be at least min', path: ['max'] });

export const poolBase = {
  /** Extra node labels; `plinth.dev/pool: <name>` is always added. */
  labels: z.record(z.string(), z.string()).default({}),
  /** Cloud instance types for provisioned pools (used by the Pulumi stacks). */
  instanceTypes: z.array(z.string().min(1)).default([]),
  /** Node count range for provisioned pools. */
  size: poolSize.default({ min: 1, max: 3 }),
};

export const corePool = z.strictObject({
  role: z.literal('core'),
  ...poolBase,
  /** Taints only core services tolerate, so nothing else lands on core nodes. */
  taints: z.array(taint).default([]),
});

export const cpuPool = z.strictObject({
  role: z.literal('cpu'),
  ...poolBase,
  taints: z.array(taint).default([]),
});

export const gpuPool = z.strictObject({
  role: z.literal('gpu'),
  ...poolBase,
  /** The accelerator model, also set as the `nvidia.com/gpu.product` node label. */
  accelerator: z.string().min(1, { error: 'must name the accelerator, e.g. "nvidia-a100"' }),
  /** GPUs per node. */
  gpusPerNode: z.number().int().min(1, { error: 'must be at least 1' }).default(8),
  /** Defaults to the standard GPU taint; must not be empty, or CPU workloads would take GPU nodes. */
  taints: z
    .array(taint)
    .default([{ ...GPU_TAINT }])
    .refine((t) => t.some((x) => x.effect === 'NoSchedule' || x.effect === 'NoExecute'), {
      error: `a GPU pool needs a NoSchedule taint (the default is ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}) so that CPU workloads stay off GPU nodes`,
    }),
});

export const nodePool = z.discriminatedUnion('role', [corePool, cpuPool, gpuPool], {
  error: 'must be one of "core", "cpu", "gpu"',
});
export type NodePool = z.infer<typeof nodePool>;
