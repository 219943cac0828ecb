import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { KWOK_NODE_ANNOTATION } from '../../local-cluster/simulated-nodes.js';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { POOL_LABEL } from '../../model/pools.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, inPhase, submittedRuns, waitForRun } from '../support/runs.js';

const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;

/**
 * A CPU-pool node of one pod slot, of this suite's own: its taint keeps every other run off it,
 * so the shared nodes keep their capacity.
 */
const SLOT_NODE = 'one-slot-0';
const SLOT_TAINT = { key: 'example.com/one-slot', value: 'test', effect: 'NoSchedule' } as const;
const onSlotNode = {
  nodeSelector: { 'kubernetes.io/hostname': SLOT_NODE },
  tolerations: [{ key: SLOT_TAINT.key, operator: 'Exists' as const, effect: SLOT_TAINT.effect }],
};

describe('runs that another pod or a full node keeps out', () => {
  beforeAll(async () => {
    controller = await startSyncedController('blockers');
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, created);
    await admin()
      .makeApiClient(CoreV1Api)
      .deleteNode({ name: SLOT_NODE })
      .catch((e: unknown) => {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
      });
    expect(await controller.stop()).toBe(0);
  });

  it("names another run's required anti-affinity, not the other pools' taints, as what keeps a run out", async () => {
    // Every CPU node shares the pool label, so one pod of this service keeps the fenced run off all of them.
    await submit('fence', {
      kind: 'service',
      environment: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { [PLINTH_LABELS.run]: 'fenced' } }, topologyKey: POOL_LABEL },
            ],
          },
        },
      },
      service: { container: { image }, ports: [{ name: 'http', port: 8080 }] },
    });
    await waitForRun(NS, 'fence', inPhase('running'));

    await submit('fenced', { job: { container: { image } } });
    const run = await waitForRun(NS, 'fenced', inPhase('unschedulable'));
    expect(run.status?.reason).toBe('BlockedByAntiAffinity');
    // The scheduler's message, quoted, also counts the GPU and core nodes' taints.
    expect(run.status?.message).toMatch(
      /^another pod's required anti-affinity keeps the pod off the nodes it may go to: 0\/\d+ nodes are available: .*2 node\(s\) didn't satisfy existing pods anti-affinity rules.*had untolerated taint/,
    );
    expect(run.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Scheduled', status: 'False', reason: 'BlockedByAntiAffinity' }),
    );
  });

  it('names full pod slots on the nodes a run may go to, whatever CPU they have free', async () => {
    const core = admin().makeApiClient(CoreV1Api);
    const capacity = { cpu: '4', memory: '8Gi', pods: '1' };
    await core.createNode({
      body: {
        metadata: {
          name: SLOT_NODE,
          annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value },
          labels: {
            [POOL_LABEL]: SIMULATED_CPU_POOL,
            'kubernetes.io/hostname': SLOT_NODE,
            'kubernetes.io/os': 'linux',
          },
        },
        spec: { taints: [SLOT_TAINT] },
        status: { capacity, allocatable: capacity },
      },
    });
    await eventually(`node ${SLOT_NODE} to be ready`, async () => {
      const node = await core.readNode({ name: SLOT_NODE });
      const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const notReadyTaint = node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
      return ready && !notReadyTaint ? node : undefined;
    });

    await submit('slot-holder', {
      kind: 'service',
      environment: onSlotNode,
      service: { container: { image }, ports: [{ name: 'http', port: 8080 }] },
    });
    await waitForRun(NS, 'slot-holder', inPhase('running'));

    await submit('slot-wanter', { environment: onSlotNode, job: { container: { image } } });
    const run = await waitForRun(NS, 'slot-wanter', inPhase('unschedulable'));
    expect(run.status?.reason).toBe('NodePodsFull');
    expect(run.status?.message).toMatch(
      /^the nodes the pod may go to hold as many pods as they allow, whatever CPU, memory or GPUs they have free: 0\/\d+ nodes are available: 1 Too many pods, .*had untolerated taint/,
    );
  });
});
