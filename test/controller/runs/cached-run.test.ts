import { describe, expect, it } from 'vitest';
import { isLeafRun, listedKind, reconcilerOf, type LeafRun } from '../../../controller/api/composition.js';
import type { Run, RunSpec } from '../../../controller/api/run.js';
import {
  CACHED,
  RUN_CACHE,
  WHOLE_SPEC_LIMIT,
  type CachedRun,
  type LeafRunSummary,
} from '../../../controller/runs/cached-run.js';
import { effectivePool } from '../../../controller/runs/effective-pool.js';
import { kindOf } from '../../../controller/runs/kinds/registry.js';
import { invalidity } from '../../../controller/runs/run-validity.js';
import { serviceRoute } from '../../../controller/runs/service-route.js';
import { GPU_RESOURCE } from '../../../model/pools.js';
import { largestRunSpec } from '../../support/largest-run.js';
import { runDefaultsOf } from '../../support/platform.js';

const defaults = runDefaultsOf('local');
const team = defaults.teams['plinth-vision']!;

/** A run as the API server sends it: with labels, annotations and managed fields nobody reads. */
function stored(spec: RunSpec, status?: Run['status']): Run {
  return {
    apiVersion: 'plinth.dev/v1alpha1',
    kind: 'Run',
    metadata: {
      name: 'r',
      namespace: 'plinth-vision',
      uid: 'u1',
      generation: 2,
      resourceVersion: '7',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { team: 'vision' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec }) },
      managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      ownerReferences: [
        { apiVersion: 'plinth.dev/v1alpha1', kind: 'Run', name: 'sweep', uid: 'p1', controller: true },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'other', uid: 'c1' },
      ],
    },
    spec,
    ...(status ? { status } : {}),
  };
}

/** What the shared Run informer caches of a run. */
function cached(run: Run): CachedRun {
  const copy = structuredClone(run) as unknown as CachedRun;
  RUN_CACHE.transform?.(copy);
  return copy;
}

const image = 'ghcr.io/plinth-dev/train:1.0.0';
const gpus = (n: number | string) => ({ resources: { limits: { [GPU_RESOURCE]: n }, requests: { cpu: '1' } } });
/** Args long enough to take a spec past the limit of a whole cached spec. */
const longArgs = (characters: number) => Array.from({ length: 64 }, () => 'x'.repeat(Math.ceil(characters / 64)));
const large = (spec: RunSpec): RunSpec => ({
  ...spec,
  params: Array.from({ length: 8 }, (_, i) => ({ name: `P${i}`, value: 'v'.repeat(4096) })),
});

const runs: Record<string, RunSpec> = {
  'a job that names its pool and connections': {
    kind: 'job',
    pool: 'cpu',
    connections: ['datasets'],
    job: { container: { image, args: longArgs(20_000) } },
  },
  'a job asking for GPUs in an init container': {
    kind: 'job',
    job: {
      container: { image },
      init: [
        { image, ...gpus('1000m') },
        { image, ...gpus(2) },
      ],
    },
  },
  'a job naming a connection the platform lacks': {
    kind: 'job',
    connections: ['nowhere'],
    job: { container: { image } },
  },
  'a job naming a pool its team may not use': { kind: 'job', pool: 'core', job: { container: { image } } },
  'an external service of 3 replicas with a GPU each': {
    kind: 'service',
    service: { container: { image, ...gpus(1) }, ports: [{ port: 8080 }], replicas: 3, isExternal: true },
  },
  'a stopped job': { kind: 'job', stopped: true, job: { container: { image, ...gpus(1) } } },
};

describe('what the Run cache keeps', () => {
  it('keeps of a finished run what classifies it, its status, and its identity', () => {
    const status = { phase: 'stopped' as const, reason: 'Stopped', finishedAt: '2026-01-02T00:00:00Z' };
    const sweep = stored({ ...large(runs['a stopped job']!), matrix: { kind: 'grid', values: [{ lr: 1 }] } }, status);
    const run = cached(sweep);
    expect(run[CACHED]).toBe('settled');
    expect(run.spec).toEqual({ kind: 'job', matrix: { kind: 'grid' } });
    expect(run.status).toEqual(status);
    expect(run.metadata).toEqual({
      name: 'r',
      namespace: 'plinth-vision',
      uid: 'u1',
      generation: 2,
      resourceVersion: '7',
      creationTimestamp: '2026-01-01T00:00:00Z',
      ownerReferences: [{ apiVersion: 'plinth.dev/v1alpha1', kind: 'Run', name: 'sweep', uid: 'p1', controller: true }],
    });
    expect([reconcilerOf(run.spec), listedKind(run.spec)]).toEqual([reconcilerOf(sweep.spec), listedKind(sweep.spec)]);
  });

  it('keeps the whole spec of an unfinished run up to the limit, and a summary past it', () => {
    const small = cached(stored(runs['a job that names its pool and connections']!, { phase: 'queued' }));
    const whole = { ...runs['a job that names its pool and connections']!, job: { container: { image } } };
    const kept = cached(stored(whole, { phase: 'queued' }));
    expect(kept[CACHED]).toBe('whole');
    expect(kept.spec).toEqual(whole);
    expect(kept.metadata).not.toHaveProperty('labels');
    expect(kept.metadata).not.toHaveProperty('annotations');
    expect(kept.metadata).not.toHaveProperty('managedFields');
    expect(JSON.stringify(whole).length).toBeLessThan(WHOLE_SPEC_LIMIT);

    expect(small[CACHED]).toBe('summary');
    expect(small.spec).toEqual({ kind: 'job', pool: 'cpu', connections: ['datasets'], job: { container: {} } });
  });

  it.each(Object.entries(runs))('reads the same from the summary of %s as from the whole run', (_, spec) => {
    const whole = stored(large(spec)) as LeafRun;
    const summary = cached(whole);
    expect(summary[CACHED]).toBe('summary');
    if (summary[CACHED] === 'settled' || !isLeafRun(summary)) throw new Error('not an unfinished leaf run');
    const read = (run: LeafRunSummary) => ({
      gpus: kindOf(run.spec.kind).gpus(run),
      pool: effectivePool(run, team),
      invalid: invalidity(run, team, defaults),
      route: serviceRoute(run, team),
      listed: listedKind(run.spec),
      stopped: run.spec.stopped,
    });
    expect(read(summary)).toEqual(read(whole));
  });

  it('holds a summary to the same size whatever the spec holds beside what it keeps', () => {
    const summaryOf = (characters: number) =>
      JSON.stringify(
        cached(stored({ kind: 'job', job: { container: { image, args: longArgs(characters), ...gpus(1) } } })),
      );
    expect(summaryOf(1_000_000)).toBe(summaryOf(20_000));
    // The largest run the schema lets a team write, with a GPU: a summary of a few hundred characters.
    const { spec } = largestRunSpec({ pool: 'gpu', connections: team.connections, unboundedScale: 1 / 16 });
    spec.job!.container.resources = gpus(1).resources;
    const largest = stored(spec);
    expect(JSON.stringify(largest).length).toBeGreaterThan(WHOLE_SPEC_LIMIT);
    expect(JSON.stringify(cached(largest)).length).toBeLessThan(1024);
  });

  it('keeps a pool name or a GPU quantity longer than any real one to a bound, still refused or counted alike', () => {
    const spec: RunSpec = large({
      kind: 'job',
      pool: 'p'.repeat(1_000_000),
      job: { container: { image, resources: { limits: { [GPU_RESOURCE]: `${'0'.repeat(1_000_000)}2` } } } },
    });
    const whole = stored(spec) as LeafRun;
    const summary = cached(whole) as LeafRunSummary;
    expect(JSON.stringify(summary).length).toBeLessThan(1024);
    expect(kindOf('job').gpus(summary)).toBe(kindOf('job').gpus(whole));
    expect(invalidity(summary, team, defaults)?.reason).toBe(invalidity(whole, team, defaults)?.reason);
  });

  it('says by its type what a cached run lacks', () => {
    const run = cached(stored(large(runs['a job that names its pool and connections']!)));
    if (run[CACHED] === 'settled') {
      // @ts-expect-error a finished run keeps no pool
      expect(run.spec.pool).toBeUndefined();
      return;
    }
    // @ts-expect-error an unfinished run's cache keeps no params: the whole run has them
    expect(run.spec.params).toBeUndefined();
    // @ts-expect-error nor labels
    expect(run.metadata.labels).toBeUndefined();
  });
});
