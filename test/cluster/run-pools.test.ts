import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { GPU_RESOURCE, POOL_LABEL } from '../../model/pools.js';
import { imageReference, LOCAL_REGISTRY } from '../../images/reference.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, inPhase, submittedRuns, waitForRun } from '../support/runs.js';

const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;

/** The pool of the node the run's pod ran on, as the node's own label says. */
async function nodePoolOf(run: string): Promise<string | undefined> {
  const core = admin().makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `${PLINTH_LABELS.run}=${run}` });
  const nodeName = pods.items[0]?.spec?.nodeName;
  if (!nodeName) throw new Error(`run ${run} has no pod on a node`);
  return (await core.readNode({ name: nodeName })).metadata?.labels?.[POOL_LABEL];
}

describe('runs that name no pool', () => {
  beforeAll(async () => {
    controller = await startSyncedController('pools');
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, created);
    expect(await controller.stop()).toBe(0);
  });

  it("run on the team's default pool, shown in status.pool", async () => {
    // The default pool is the real cpu pool: the run's code really runs there, in an image built here.
    await submit('no-pool', {
      pool: undefined,
      job: { container: { image: imageReference('python', LOCAL_REGISTRY), command: ['python3', '-c', 'pass'] } },
    });
    const run = await waitForRun(NS, 'no-pool', inPhase('succeeded', 'failed'), 120_000);
    expect(run.spec.pool).toBeUndefined();
    expect(run.status).toMatchObject({ phase: 'succeeded', pool: 'cpu' });
    expect(await nodePoolOf('no-pool')).toBe('cpu');
  });

  it("run on the team's default GPU pool when they ask for GPUs", async () => {
    await submit('no-pool-gpu', {
      pool: undefined,
      job: { container: { image, resources: { limits: { [GPU_RESOURCE]: 1 } } } },
    });
    const run = await waitForRun(NS, 'no-pool-gpu', inPhase('succeeded', 'failed'));
    expect(run.status).toMatchObject({ phase: 'succeeded', pool: 'gpu' });
    expect(await nodePoolOf('no-pool-gpu')).toBe('gpu');
  });
});
