import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, getRun, inPhase, submitRun, waitForRun } from '../support/runs.js';

const NS = 'plinth-nlp'; // 8 GPUs and 10 concurrent runs in the local environment
const names = ['big', 'next', 'last'];
let controller: ControllerProcess;

function gpuRun(gpus: number, duration: string) {
  return {
    pool: 'gpu',
    environment: { annotations: { [DURATION_ANNOTATION]: duration } },
    job: { container: { image: 'ghcr.io/plinth-dev/train:1.0.0', resources: { limits: { 'nvidia.com/gpu': gpus } } } },
  };
}

describe('team quotas queue runs instead of failing them', () => {
  beforeAll(async () => {
    controller = await startSyncedController('quota');
  });
  afterAll(async () => {
    await deleteRuns(kubeConfigAs('admin'), NS, names);
    await controller.stop();
  });

  it('queues runs beyond the GPU quota with the reason, and admits them in order as capacity frees', async () => {
    // Long enough to be seen running, and to hold the GPUs while the others queue behind it.
    await submitRun(NS, 'big', gpuRun(8, '6s'));
    await waitForRun(NS, 'big', inPhase('running'));
    await submitRun(NS, 'next', gpuRun(6, '3s'));
    await new Promise((r) => setTimeout(r, 50)); // distinct creation times for a strict order
    await submitRun(NS, 'last', gpuRun(4, '1s'));

    const next = await waitForRun(NS, 'next', inPhase('queued'));
    expect(next.status?.message).toBe('waiting for quota: team nlp uses 8/8 GPUs');
    expect(next.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Admitted', status: 'False', reason: 'WaitingForQuota' }),
    );
    const last = await waitForRun(NS, 'last', inPhase('queued'));
    expect(last.status?.message).toBe('waiting for quota: team nlp uses 8/8 GPUs; 1 run(s) ahead in the queue');

    // When `big` finishes, `next` goes first; `last` would fit beside it only if it jumped the queue.
    await waitForRun(NS, 'big', inPhase('succeeded'));
    await waitForRun(NS, 'next', inPhase('running', 'succeeded'));
    // `next` holds 6 of the 8 GPUs for 3 s: `last` stays queued, now first in line.
    const waiting = await waitForRun(
      NS,
      'last',
      (run) => run.status?.message === 'waiting for quota: team nlp uses 6/8 GPUs',
    );
    expect(waiting.status?.phase).toBe('queued');

    const done = await waitForRun(NS, 'last', inPhase('succeeded', 'failed'));
    const finishedNext = await getRun(NS, 'next');
    expect(done.status?.phase).toBe('succeeded');
    expect(new Date(done.status?.startedAt ?? 0).getTime()).toBeGreaterThanOrEqual(
      new Date(finishedNext.status?.finishedAt ?? 0).getTime() - 1000,
    );
  });
});
