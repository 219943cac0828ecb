import { afterAll, describe, expect, it } from 'vitest';
import { BatchV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { startController } from '../support/controller.js';
import { deleteRuns, inPhase, submitRun, waitForRun } from '../support/runs.js';

const NS = 'plinth-vision';
const names = Array.from({ length: 20 }, (_, i) => `restart-${i}`);
const admin = () => kubeConfigAs('admin');

describe('a controller killed mid-reconcile', () => {
  afterAll(async () => {
    await deleteRuns(admin(), NS, names);
  });

  it('is replaced by one that finishes the work with exactly one Job per run', async () => {
    for (const name of names) {
      await submitRun(NS, name, {
        job: { container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } },
        environment: { annotations: { [DURATION_ANNOTATION]: '2s' } },
      });
    }
    const first = await startController('first');
    await first.waitForLog((l) => l['msg'] === 'created job');
    expect(await first.stop('SIGKILL')).toBeNull();

    // The second waits out the dead leader's lease, then picks up where it stopped.
    const second = await startController('second');
    await second.waitForLog((l) => l['msg'] === 'became leader');
    for (const name of names) {
      const run = await waitForRun(NS, name, inPhase('succeeded', 'failed'));
      expect(run.status?.phase, name).toBe('succeeded');
      expect(run.status?.attempts, name).toBe(1);
    }
    // Exactly one Job, and one pod, per run: nothing was created twice across the restart.
    const perRun = (items: { metadata?: { labels?: Record<string, string> } }[]) => (name: string) =>
      items.filter((o) => o.metadata?.labels?.['plinth.dev/run'] === name).length;
    const jobs = await admin()
      .makeApiClient(BatchV1Api)
      .listNamespacedJob({ namespace: NS, labelSelector: 'plinth.dev/run' });
    const pods = await admin()
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: NS, labelSelector: 'plinth.dev/run' });
    for (const name of names) {
      expect(perRun(jobs.items)(name), `jobs of ${name}`).toBe(1);
      expect(perRun(pods.items)(name), `pods of ${name}`).toBe(1);
    }

    // SIGTERM: a clean exit that hands the lease back at once.
    expect(await second.stop('SIGTERM')).toBe(0);
    const lease = await admin()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'plinth-controller', namespace: 'plinth' });
    expect(lease.spec?.holderIdentity).toBeUndefined();
  });
});
