import { describe, expect, it } from 'vitest';
import type { TeamDefaults } from '../../../controller/api/platform-defaults.js';
import type { LeafRun } from '../../../controller/api/composition.js';
import { TeamAdmission } from '../../../controller/runs/team-admission.js';

const team: TeamDefaults = {
  team: 'vision',
  maxConcurrentRuns: 3,
  gpu: 16,
  pools: ['cpu', 'gpu'],
  defaultPool: 'cpu',
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

function run(name: string, gpus: number, created = '2026-01-01T00:00:00Z'): LeafRun {
  return {
    apiVersion: 'plinth.dev/v1alpha1',
    kind: 'Run',
    metadata: { name, namespace: 'plinth-vision', uid: `uid-${name}`, creationTimestamp: created },
    spec: {
      kind: 'job',
      pool: 'gpu',
      job: { container: { image: 'x:1', resources: { limits: { 'nvidia.com/gpu': gpus } } } },
    },
  };
}

/** A fresh admission with the runs arrived in the order given. */
function arrived(runs: LeafRun[]): { admission: TeamAdmission; runs: LeafRun[] } {
  const admission = new TeamAdmission();
  runs.forEach((r) => admission.noteArrival(r));
  return { admission, runs };
}

describe('TeamAdmission', () => {
  it('admits runs until the GPU quota is used, then queues with the usage', () => {
    const [a, b, c] = [run('a', 8), run('b', 8), run('c', 1)];
    const { admission, runs: all } = arrived([a, b, c]);
    expect(admission.decide(a, () => all, team)).toEqual({ admitted: true });
    expect(admission.decide(b, () => all, team)).toEqual({ admitted: true });
    expect(admission.decide(c, () => all, team)).toEqual({
      admitted: false,
      message: 'waiting for quota: team vision uses 16/16 GPUs',
    });
  });

  it('keeps FIFO order: a small run does not pass a big one waiting ahead of it', () => {
    const [a, big, small] = [run('a', 10), run('big', 8), run('small', 2)];
    const { admission, runs: all } = arrived([a, big, small]);
    expect(admission.decide(a, () => all, team).admitted).toBe(true);
    expect(admission.decide(small, () => all, team)).toEqual({
      admitted: false,
      message: 'waiting for quota: team vision uses 10/16 GPUs; 1 run(s) ahead in the queue',
    });
    admission.release(a);
    const remaining = [big, small];
    expect(admission.decide(small, () => remaining, team).admitted).toBe(true);
    expect(admission.decide(big, () => remaining, team).admitted).toBe(true);
  });

  it('orders by arrival, not by name, within the same second', () => {
    const admission = new TeamAdmission();
    const [zeta, alpha] = [run('zeta', 16), run('alpha', 16)];
    admission.noteArrival(zeta);
    admission.noteArrival(alpha);
    expect(admission.decide(alpha, () => [zeta, alpha], team).admitted).toBe(false);
    expect(admission.decide(zeta, () => [zeta, alpha], team).admitted).toBe(true);
  });

  it('queues beyond the concurrent-run quota', () => {
    const { admission, runs } = arrived(['a', 'b', 'c', 'd'].map((n) => run(n, 0)));
    runs.slice(0, 3).forEach((r) => expect(admission.decide(r, () => runs, team).admitted).toBe(true));
    expect(admission.decide(runs[3]!, () => runs, team)).toEqual({
      admitted: false,
      message: 'waiting for quota: team vision runs 3/3 concurrent runs',
    });
  });

  it('names the exact queue position of a run deep in a long queue', () => {
    const { admission, runs } = arrived(Array.from({ length: 50 }, (_, i) => run(`r${i}`, 0)));
    runs.slice(0, 3).forEach((r) => expect(admission.decide(r, () => runs, team).admitted).toBe(true));
    expect(admission.decide(runs[40]!, () => runs, team)).toEqual({
      admitted: false,
      message: 'waiting for quota: team vision runs 3/3 concurrent runs; 37 run(s) ahead in the queue',
    });
  });

  it('names as the next to admit the head of the queue, as many as there are free run slots', () => {
    const { admission, runs } = arrived(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => run(n, 0)));
    runs.slice(0, 3).forEach((r) => admission.decide(r, () => runs, team));
    expect(admission.queueHead(runs, team).map((r) => r.metadata.name)).toEqual(['d']);
    admission.release(runs[0]!);
    admission.release(runs[1]!);
    const active = runs.slice(2);
    expect(admission.queueHead(active, team).map((r) => r.metadata.name)).toEqual(['d', 'e']);
  });

  it('knows whether anyone waits, so that a finished run wakes no one when the queue is empty', () => {
    const { admission, runs } = arrived(['a', 'b', 'c', 'd'].map((n) => run(n, 0)));
    expect(admission.hasWaiting('plinth-vision')).toBe(true);
    runs.slice(0, 3).forEach((r) => admission.decide(r, () => runs, team));
    expect(admission.decide(runs[3]!, () => runs, team).admitted).toBe(false);
    expect(admission.hasWaiting('plinth-vision')).toBe(true);
    // d gives up its place (stopped): a's capacity then has no one to go to.
    expect(admission.release(runs[3]!)).toBe(false);
    expect(admission.hasWaiting('plinth-vision')).toBe(false);
    expect(admission.release(runs[0]!)).toBe(true);
  });

  it('refuses outright a run that could never fit', () => {
    const admission = new TeamAdmission();
    const huge = run('huge', 32);
    expect(admission.decide(huge, () => [huge], team)).toEqual({
      admitted: false,
      impossible: true,
      message: "asks for 32 GPUs, more than team vision's whole quota of 16",
    });
  });

  describe('a run that grows after it was admitted', () => {
    /** The same run, its spec now asking for `gpus`. */
    const grown = (r: LeafRun, gpus: number): LeafRun => ({ ...run(r.metadata.name, gpus), metadata: r.metadata });

    it.each<[string, number, number, { admitted: boolean; message?: string; holding?: boolean }]>([
      ['keeps its place when it asks for no more', 4, 4, { admitted: true }],
      ['is admitted again when the quota has room for the difference', 4, 8, { admitted: true }],
      [
        'keeps what it holds while the quota has no room for the difference',
        4,
        12,
        {
          admitted: false,
          message: 'waiting for quota to grow from 4 to 12 GPUs: team vision uses 12/16 GPUs',
          holding: true,
        },
      ],
      [
        "keeps what it holds when it asks for more than the team's whole quota",
        4,
        20,
        {
          admitted: false,
          message: "asks for 20 GPUs, more than team vision's whole quota of 16; it keeps the 4 it holds",
          holding: true,
        },
      ],
    ])('%s', (_, before, after, expected) => {
      const [other, service] = [run('other', 8), run('service', before)];
      const { admission } = arrived([other, service]);
      expect(admission.decide(other, () => [other, service], team).admitted).toBe(true);
      expect(admission.decide(service, () => [other, service], team).admitted).toBe(true);
      const now = grown(service, after);
      expect(admission.decide(now, () => [other, now], team)).toEqual(expected);
    });

    it('counts what an admitted run holds, not what it asks for, against the runs behind it', () => {
      const [service, next] = [run('service', 4), run('next', 8)];
      const { admission } = arrived([service, next]);
      expect(admission.decide(service, () => [service, next], team).admitted).toBe(true);
      // Grown to 20 but still holding 4: 12 GPUs are free for the next run.
      const now = grown(service, 20);
      expect(admission.decide(now, () => [now, next], team).admitted).toBe(false);
      expect(admission.decide(next, () => [now, next], team)).toEqual({ admitted: true });
    });

    it('frees what it no longer asks for when it shrinks', () => {
      const [service, next] = [run('service', 12), run('next', 8)];
      const { admission } = arrived([service, next]);
      expect(admission.decide(service, () => [service, next], team).admitted).toBe(true);
      expect(admission.decide(next, () => [service, next], team).admitted).toBe(false);
      const now = grown(service, 4);
      expect(admission.decide(now, () => [now, next], team)).toEqual({ admitted: true, freed: true });
      expect(admission.decide(next, () => [now, next], team)).toEqual({ admitted: true });
    });
  });
});
