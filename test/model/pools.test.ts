import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../../model/config/schema.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { teamDefaultPools } from '../../model/pools.js';
import { inputOf } from '../support/platform.js';

type TeamInput = NonNullable<PlatformConfigInput['teams']>[number];

/** The default pools of the local environment's first team, with `team` and `runs` changed, and a highmem cpu pool. */
function defaultsOf(team: Partial<TeamInput>, runs?: PlatformConfigInput['runs']) {
  const input = inputOf('local');
  input.nodePools['highmem'] = { role: 'cpu' };
  input.teams![0] = { ...input.teams![0]!, ...team };
  if (runs) input.runs = { ...input.runs, ...runs };
  const config = validatePlatformConfig('local', input);
  return teamDefaultPools(config, config.teams[0]!);
}

describe('teamDefaultPools', () => {
  it.each<[string, Partial<TeamInput>, PlatformConfigInput['runs'] | undefined, { cpu?: string; gpu?: string }]>([
    ['runs.defaultPool, and the first GPU pool', {}, undefined, { cpu: 'cpu', gpu: 'gpu' }],
    ["the platform's runs.defaultPool", {}, { defaultPool: 'highmem' }, { cpu: 'highmem', gpu: 'gpu' }],
    ["the team's own, over runs.defaultPool", { defaultPool: 'highmem' }, undefined, { cpu: 'highmem', gpu: 'gpu' }],
    [
      "the team's first cpu pool, when it may not use runs.defaultPool",
      { pools: ['gpu', 'highmem'] },
      undefined,
      { cpu: 'highmem', gpu: 'gpu' },
    ],
    ['no default pool for a team of GPU pools only', { pools: ['gpu'] }, undefined, { gpu: 'gpu' }],
    ['no GPU pool for a team of cpu pools only', { pools: ['cpu'] }, undefined, { cpu: 'cpu' }],
    [
      "the team's defaultGpuPool",
      { defaultGpuPool: 'gpu', pools: ['cpu', 'gpu'] },
      undefined,
      { cpu: 'cpu', gpu: 'gpu' },
    ],
  ])('%s', (_, team, runs, expected) => {
    expect(defaultsOf(team, runs)).toEqual(expected);
  });
});
