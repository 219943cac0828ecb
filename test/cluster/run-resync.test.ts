import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { CONTROLLER_METRICS } from '../../controller/api/metrics.js';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { isFinalStatus } from '../../controller/runs/run-status.js';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, inPhase, submitRun, waitForRun } from '../support/runs.js';

const NS = 'plinth-vision';
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const finished = Array.from({ length: 5 }, (_, i) => `resync-done-${i}`);
const waiting = 'resync-waiting';
let controller: ControllerProcess;

/** Reconciles so far, whatever their result, from the controller's own metrics. */
async function reconciles(): Promise<number> {
  const text = await (await fetch(controller.metricsUrl)).text();
  const count = new RegExp(`^${CONTROLLER_METRICS.reconcileTotal}\\{[^}]*\\} (\\d+)$`, 'gm');
  return [...text.matchAll(count)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** Runs anywhere in the cluster that are not finished: each is resynced every period. */
async function unfinishedRuns(): Promise<number> {
  const api = kubeConfigAs('admin').makeApiClient(CustomObjectsApi);
  const list = (await api.listClusterCustomObject({ group: RUN_GROUP, version: RUN_VERSION, plural: RUN_PLURAL })) as {
    items: Run[];
  };
  return list.items.filter((run) => !isFinalStatus(run.status)).length;
}

describe('the periodic resync', () => {
  beforeAll(async () => {
    controller = await startSyncedController('resync', { resyncSeconds: 1 });
  });
  afterAll(async () => {
    await deleteRuns(kubeConfigAs('admin'), NS, [...finished, waiting]);
    expect(await controller.stop()).toBe(0);
  });

  it('reconciles every unfinished run each period, and never a finished one', async () => {
    for (const name of finished) {
      await submitRun(NS, name, {
        job: { container: { image } },
        environment: { annotations: { [DURATION_ANNOTATION]: '100ms' } },
      });
    }
    await submitRun(NS, waiting, {
      pool: 'gpu',
      job: { container: { image, resources: { limits: { 'nvidia.com/gpu': 9 } } } },
    });
    for (const name of finished) await waitForRun(NS, name, inPhase('succeeded'));
    await waitForRun(NS, waiting, inPhase('unschedulable'));

    // The Job controller's last updates of the finished runs' children each bring a reconcile.
    await new Promise((r) => setTimeout(r, 2000));
    const unfinished = await unfinishedRuns(); // the waiting run, and any other test's
    const before = await reconciles();
    await new Promise((r) => setTimeout(r, 5000));
    const during = (await reconciles()) - before;
    // About five periods, each reconciling every unfinished run once. Resyncing the five finished
    // runs as well would add five more per period.
    expect(during).toBeGreaterThanOrEqual(3 * unfinished);
    expect(during).toBeLessThan(5 * (unfinished + 2));
  });
});
