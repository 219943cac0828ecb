import { describe, expect, it } from 'vitest';
import type { TeamDefaults } from '../../../controller/api/platform-defaults.js';
import type { LeafRun } from '../../../controller/api/composition.js';
import type { JobSection } from '../../../controller/api/run.js';
import { effectivePool } from '../../../controller/runs/effective-pool.js';
import { GPU_RESOURCE } from '../../../model/pools.js';

const team: TeamDefaults = {
  team: 'vision',
  maxConcurrentRuns: 3,
  gpu: 16,
  pools: ['cpu', 'gpu', 'highmem'],
  defaultPool: 'highmem',
  defaultGpuPool: 'gpu',
  connections: [],
  priorityClasses: [],
  serviceAccounts: {},
  servicesHost: 'vision.runs.ml.example.com',
  artifacts: {
    env: [],
    volumes: [],
    volumeMounts: [],
    outputs: { uri: 's3://ml/plinth/outputs/vision', synced: true },
  },
};
const cpuOnly: TeamDefaults = { ...team, pools: ['cpu'], defaultPool: 'cpu', defaultGpuPool: null };
const gpuOnly: TeamDefaults = { ...team, pools: ['gpu'], defaultPool: null, defaultGpuPool: 'gpu' };

const gpus = { resources: { limits: { [GPU_RESOURCE]: 1 } } };
type Container = JobSection['container'];
const run = (spec: { pool?: string; container?: Partial<Container>; init?: Partial<Container>[] }): LeafRun => ({
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'r', namespace: 'plinth-vision' },
  spec: {
    kind: 'job',
    ...(spec.pool ? { pool: spec.pool } : {}),
    job: {
      container: { image: 'x:1', ...spec.container },
      ...(spec.init ? { init: spec.init.map((c) => ({ image: 'x:1', ...c })) } : {}),
    },
  },
});

describe('effectivePool', () => {
  it.each([
    ['a named pool, whatever the run asks for', run({ pool: 'cpu', container: gpus }), team, 'cpu'],
    ['a named pool, even one the team may not use', run({ pool: 'gpu' }), cpuOnly, 'gpu'],
    ["no pool: the team's default pool", run({}), team, 'highmem'],
    ["no pool, asking for GPUs: the team's default GPU pool", run({ container: gpus }), team, 'gpu'],
    [
      'no pool, GPUs requested rather than limited',
      run({ container: { resources: { requests: { [GPU_RESOURCE]: '2' } } } }),
      team,
      'gpu',
    ],
    ['no pool, an init container asking for GPUs', run({ init: [gpus] }), team, 'gpu'],
    [
      'no pool, zero GPUs asked for',
      run({ container: { resources: { limits: { [GPU_RESOURCE]: 0 } } } }),
      team,
      'highmem',
    ],
    [
      "no pool, a team of GPU pools only: a GPU run goes to the team's GPU pool",
      run({ container: gpus }),
      gpuOnly,
      'gpu',
    ],
  ])('%s', (_, r, t, pool) => {
    expect(effectivePool(r, t)).toEqual({ pool });
  });

  it('says why a GPU run naming no pool has nowhere to go', () => {
    expect(effectivePool(run({ container: gpus }), cpuOnly)).toEqual({
      missing: `the run names no pool and asks for ${GPU_RESOURCE}, but team vision may use no GPU pool; its pools: cpu`,
    });
  });

  it('says why a run naming no pool has nowhere to go when its team has no default pool', () => {
    expect(effectivePool(run({}), gpuOnly)).toEqual({
      missing: 'the run names no pool and team vision has no default pool; name one of its pools in spec.pool: gpu',
    });
  });
});
