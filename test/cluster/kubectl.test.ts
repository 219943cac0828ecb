import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchV1Api } from '@kubernetes/client-node';
import { DURATION_ANNOTATION, SIMULATE_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { kubeConfigAs, kubectl } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, submitRun } from '../support/runs.js';

const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
// A Job name may hold a dot: the CRD lets a job run have one (run-validation.test.ts), so one must run.
const SUCCEEDS = 'train.v2';
const FAILS = 'broken';
const SWEEP = 'sweep';
let controller: ControllerProcess;

/** kubectl as a team editor, in the team's namespace. */
const teamKubectl = (...args: string[]) => kubectl('vision-dev', [...args, '-n', NS]);

/** The rows of a `kubectl get` table, by column: kubectl left-aligns each cell under its header. */
function table(stdout: string): Record<string, string>[] {
  const [header = '', ...rows] = stdout.split('\n').filter((line) => line !== '');
  const columns = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], start: m.index }));
  return rows.map((row) =>
    Object.fromEntries(
      columns.map(({ name, start }, i) => [name, row.slice(start, columns[i + 1]?.start ?? row.length).trim()]),
    ),
  );
}

describe('runs through kubectl', () => {
  beforeAll(async () => {
    controller = await startSyncedController('kubectl');
    await submitRun(NS, SUCCEEDS);
    await submitRun(NS, FAILS, {
      environment: { annotations: { [SIMULATE_ANNOTATION]: 'fail', [DURATION_ANNOTATION]: '200ms' } },
    });
    await submitRun(NS, SWEEP, { matrix: { kind: 'grid', params: { lr: { kind: 'choice', value: [0.1, 0.01] } } } });
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, [SUCCEEDS, FAILS, SWEEP]);
    expect(await controller.stop()).toBe(0);
  });

  it('waits for a run to succeed with kubectl wait, and for one to fail with Succeeded=false', async () => {
    const succeeded = await teamKubectl('wait', '--for=condition=Succeeded', `run/${SUCCEEDS}`, '--timeout=90s');
    expect(succeeded).toMatchObject({ code: 0, stdout: `run.plinth.dev/${SUCCEEDS} condition met\n` });
    const job = await admin().makeApiClient(BatchV1Api).readNamespacedJob({ name: SUCCEEDS, namespace: NS });
    expect(job.status?.succeeded).toBe(1);

    const failed = await teamKubectl('wait', '--for=condition=Succeeded=false', `run/${FAILS}`, '--timeout=90s');
    expect(failed).toMatchObject({ code: 0, stdout: `run.plinth.dev/${FAILS} condition met\n` });
    // A failed run never satisfies a wait for success.
    const never = await teamKubectl('wait', '--for=condition=Succeeded', `run/${FAILS}`, '--timeout=2s');
    expect(never.code).not.toBe(0);
    expect(never.stderr).toContain('timed out waiting for the condition');
  });

  it('lists runs by their short name, with attempts and start time, and the message with -o wide', async () => {
    await teamKubectl('wait', '--for=condition=Succeeded', `run/${SUCCEEDS}`, '--timeout=90s');
    const narrow = await teamKubectl('get', 'plr');
    expect(narrow.code).toBe(0);
    expect(Object.keys(table(narrow.stdout)[0] ?? {})).toEqual([
      'NAME',
      'KIND',
      'POOL',
      'PHASE',
      'REASON',
      'ATTEMPTS',
      'STARTED',
      'AGE',
    ]);

    const wide = await teamKubectl('get', 'plr', SUCCEEDS, '-o', 'wide');
    expect(wide.code).toBe(0);
    const [run] = table(wide.stdout);
    expect(run).toMatchObject({
      NAME: SUCCEEDS,
      KIND: 'job',
      PHASE: 'succeeded',
      REASON: 'Completed',
      ATTEMPTS: '1',
      URL: '',
      MESSAGE: 'succeeded after 1 attempt(s)',
    });
    expect(run?.['STARTED']).toMatch(/^\d+s$/);
  });

  it('lists a sweep as job+matrix, failed as NotSupported until its reconciler comes', async () => {
    const failed = await teamKubectl('wait', '--for=condition=Succeeded=false', `run/${SWEEP}`, '--timeout=90s');
    expect(failed.code).toBe(0);
    const [run] = table((await teamKubectl('get', 'plr', SWEEP, '-o', 'wide')).stdout);
    expect(run).toMatchObject({ NAME: SWEEP, KIND: 'job+matrix', PHASE: 'failed', REASON: 'NotSupported' });
    expect(run?.['MESSAGE']).toContain('this run is a sweep (spec.matrix)');
    // A parent makes no workload of its own.
    const jobs = await admin().makeApiClient(BatchV1Api).listNamespacedJob({ namespace: NS });
    expect(jobs.items.map((j) => j.metadata?.name)).not.toContain(SWEEP);
  });
});
