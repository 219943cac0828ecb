import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Pod, type V1ResourceQuota } from '@kubernetes/client-node';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION, type RunSpec } from '../../controller/api/run.js';
import { CONTAINER_LIMITS } from '../../controller/api/container.js';
import { quantityValue } from '../../model/quantity.js';
import { MIN_CONTAINER_REQUEST } from '../../constructs/team-namespace.js';
import { apiMessage } from '../../local-cluster/server-side-apply.js';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, inPhase, patchRun, runObject, submittedRuns, waitForRun } from '../support/runs.js';

/**
 * A member of team vision attacks team nlp, or the platform, through what an editor may write: each
 * test is one attack as the issue saw it, written as the attacker would, and asserts that it is
 * refused at apply time, naming the field, or has no effect on the other team.
 */
const ATTACKER = 'vision-dev';
const OWN = 'plinth-vision';
const VICTIM = 'plinth-nlp';
const image = 'ghcr.io/plinth-dev/train:1.0.0';
/** A job run with `container` fields and `spec` fields of the attacker's choosing, typed loosely as an attacker writes. */
const job = (container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) =>
  ({ kind: 'job', pool: SIMULATED_CPU_POOL, job: { container: { image, ...container } }, ...spec }) as Partial<RunSpec>;

/** Why the API server refuses the attacker's run, as kubectl would send it (unknown fields are errors). */
async function refusal(spec: Partial<RunSpec>): Promise<string> {
  try {
    await kubeConfigAs(ATTACKER)
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({
        group: RUN_GROUP,
        version: RUN_VERSION,
        plural: RUN_PLURAL,
        namespace: OWN,
        body: { ...runObject('attack'), spec },
        dryRun: 'All',
        fieldValidation: 'Strict',
      });
  } catch (error) {
    return apiMessage(error);
  }
  throw new Error('expected the API server to refuse the run');
}

/** Why the API server refuses a pod created directly in the victim's namespace, whoever creates it. */
async function podRefusal(spec: Partial<NonNullable<V1Pod['spec']>>): Promise<string> {
  const pod: V1Pod = {
    metadata: { name: 'backstop' },
    spec: {
      containers: [
        {
          name: 'main',
          image,
          resources: { limits: { cpu: '100m', memory: '64Mi' } },
          securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
        },
      ],
      ...spec,
    },
  };
  try {
    await kubeConfigAs('admin')
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({ namespace: VICTIM, body: pod, dryRun: 'All' });
  } catch (error) {
    return apiMessage(error);
  }
  throw new Error('expected the API server to refuse the pod');
}

const own = submittedRuns(OWN);
const victim = submittedRuns(VICTIM);
let controller: ControllerProcess;

describe('a hostile team member cannot hurt another team', () => {
  beforeAll(async () => {
    controller = await startSyncedController('hostile');
  });
  afterAll(async () => {
    await deleteRuns(kubeConfigAs('admin'), OWN, own.names);
    await deleteRuns(kubeConfigAs('admin'), VICTIM, victim.names);
    await controller.stop();
  });

  describe('preemption', () => {
    it('refuses a system priority class at apply time, naming the field and the classes there are', async () => {
      expect(await refusal(job({}, { environment: { priorityClassName: 'system-node-critical' } }))).toContain(
        'spec.environment.priorityClassName: Unsupported value: "system-node-critical": supported values: "plinth-urgent"',
      );
    });

    it("refuses, through the team's quota, a pod of a system priority class however it comes to be", async () => {
      expect(await podRefusal({ priorityClassName: 'system-node-critical' })).toMatch(
        /exceeded quota: no-system-priority, requested: pods=1, used: pods=0, limited: pods=0/,
      );
    });

    it('fails a run naming a class its team may not use, saying which it may', async () => {
      await victim.submit('urgent', job({}, { environment: { priorityClassName: 'plinth-urgent' } }));
      const run = await waitForRun(VICTIM, 'urgent', inPhase('failed'));
      expect(run.status).toMatchObject({
        reason: 'PriorityClassNotAllowed',
        message:
          'team nlp may not use priority class "plinth-urgent" (spec.environment.priorityClassName); allowed: none',
      });
    });
  });

  describe('scheduling blockade', () => {
    const antiAffinity = (term: Record<string, unknown>) =>
      job(
        {},
        {
          environment: {
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  {
                    labelSelector: { matchLabels: { 'plinth.dev/team': 'nlp' } },
                    topologyKey: 'kubernetes.io/hostname',
                    ...term,
                  },
                ],
              },
            },
          },
        },
      );

    it('refuses a pod anti-affinity that reaches other namespaces, naming the field', async () => {
      const field = 'spec.environment.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]';
      expect(await refusal(antiAffinity({ namespaceSelector: {} }))).toContain(
        `${field}.namespaceSelector: Forbidden: a run's pod affinity reaches only pods of its own namespace`,
      );
      expect(await refusal(antiAffinity({ namespaces: [VICTIM] }))).toContain(`${field}.namespaces: Forbidden`);
    });

    it("refuses, through the team's quota, a pod whose affinity reaches other namespaces", async () => {
      const affinity = {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: {}, namespaceSelector: {}, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      };
      expect(await podRefusal({ affinity })).toMatch(/exceeded quota: no-cross-namespace-affinity/);
    });
  });

  describe('pod slots', () => {
    it('refuses a run on a GPU pool that asks for no GPU, naming the pool field', async () => {
      expect(await refusal(job({}, { pool: 'gpu' }))).toContain(
        'spec.pool: Invalid value: "object": a run on a GPU pool asks for nvidia.com/gpu in its container or an init container',
      );
    });

    it("caps the pods a team holds, and another team's GPU job still runs", async () => {
      const core = kubeConfigAs('admin').makeApiClient(CoreV1Api);
      const quota = (await core.readNamespacedResourceQuota({ name: 'team-quota', namespace: OWN })) as V1ResourceQuota;
      expect(quota.spec?.hard?.['pods']).toBe('200');
      // A tighter cap than the platform's 200, to fill it quickly: every quota of a namespace applies.
      await core.createNamespacedResourceQuota({
        namespace: OWN,
        body: { metadata: { name: 'test-pod-slots' }, spec: { hard: { pods: '5' } } },
      });
      try {
        const service: Partial<RunSpec> = {
          kind: 'service',
          pool: SIMULATED_CPU_POOL,
          service: {
            container: { image, resources: { requests: { cpu: '10m' } } },
            ports: [{ port: 8080 }],
            replicas: 20,
          },
        };
        await own.submit('slots', service);
        await victim.submit('gpu-job', {
          pool: 'gpu',
          environment: { annotations: { [DURATION_ANNOTATION]: '2s' } },
          job: { container: { image, resources: { limits: { 'nvidia.com/gpu': 1 } } } },
        });
        await waitForRun(VICTIM, 'gpu-job', inPhase('running', 'succeeded'));
        const pods = await core.listNamespacedPod({ namespace: OWN, labelSelector: 'plinth.dev/run=slots' });
        expect(pods.items.length).toBeLessThanOrEqual(5);
      } finally {
        // Before the tighter cap goes, or its pods would take the team's whole CPU quota.
        await deleteRuns(kubeConfigAs('admin'), OWN, ['slots']);
        await core.deleteNamespacedResourceQuota({ name: 'test-pod-slots', namespace: OWN });
      }
    });

    it('refuses a container request below the minimum, so that no pod slot is free', async () => {
      await own.submit('tiny', job({ resources: { requests: { cpu: '1m' } } }));
      const run = await waitForRun(OWN, 'tiny', (r) => (r.status?.message ?? '').includes('minimum cpu usage'));
      expect(run.status?.message).toContain(`minimum cpu usage per Container is ${MIN_CONTAINER_REQUEST.cpu}`);
    });
  });

  describe('controller memory', () => {
    it('refuses an unknown field inside a container, which the controller would have kept', async () => {
      expect(await refusal(job({ blob: 'x'.repeat(1024) }))).toContain('unknown field "spec.job.container.blob"');
    });

    it('refuses a container whose command, args and env values exceed their budget, saying how much', async () => {
      const half = 'x'.repeat(CONTAINER_LIMITS.textBudget / 2);
      expect(await refusal(job({ args: [half, half], env: [{ name: 'X', value: 'y' }] }))).toContain(
        `spec.job.container: Invalid value: "object": command, args and env values take at most ${CONTAINER_LIMITS.textBudget} characters together`,
      );
    });

    it("caps how many Runs a team stores, by the team's quota", async () => {
      const core = kubeConfigAs('admin').makeApiClient(CoreV1Api);
      const quota = (await core.readNamespacedResourceQuota({ name: 'team-runs', namespace: OWN })) as V1ResourceQuota;
      expect(quantityValue(quota.spec?.hard?.['count/runs.plinth.dev'] ?? 0)).toBe(2000);
      const used = Number(quota.status?.used?.['count/runs.plinth.dev'] ?? 0);
      // A tighter cap than the platform's, to reach it with two runs.
      await core.createNamespacedResourceQuota({
        namespace: OWN,
        body: { metadata: { name: 'test-run-count' }, spec: { hard: { 'count/runs.plinth.dev': String(used + 1) } } },
      });
      try {
        await own.submit('counted', job());
        let message = '';
        await own.submit('one-too-many', job()).catch((e: unknown) => (message = String(e)));
        expect(message).toContain('HTTP 403');
      } finally {
        await core.deleteNamespacedResourceQuota({ name: 'test-run-count', namespace: OWN });
      }
    });
  });

  describe('secrets', () => {
    it("refuses a container naming a Secret, which would read the team admins' Secrets", async () => {
      const why = 'a run reads Secrets only through spec.connections';
      expect(
        await refusal(
          job({ env: [{ name: 'KEY', valueFrom: { secretKeyRef: { name: 'runs-tls', key: 'tls.key' } } }] }),
        ),
      ).toContain(`spec.job.container.env[0].valueFrom.secretKeyRef: Forbidden: ${why}`);
      expect(await refusal(job({ envFrom: [{ secretRef: { name: 'huggingface' } }] }))).toContain(
        `spec.job.container.envFrom[0].secretRef: Forbidden: ${why}`,
      );
    });
  });

  describe('service accounts', () => {
    it('refuses an account the platform does not give runs, naming the field', async () => {
      expect(await refusal(job({}, { environment: { serviceAccountName: 'default' } }))).toContain(
        'spec.environment.serviceAccountName: Unsupported value: "default": supported values: "pipeline"',
      );
    });

    it("fails a run acting as another team's account, and mounts a token only where the config says", async () => {
      await victim.submit('borrowed', job({}, { environment: { serviceAccountName: 'pipeline' } }));
      const borrowed = await waitForRun(VICTIM, 'borrowed', inPhase('failed'));
      expect(borrowed.status).toMatchObject({ reason: 'ServiceAccountNotAllowed' });
      expect(borrowed.status?.message).toContain("allowed: none: runs act as the platform's run account");

      await own.submit('pipeline', job({}, { environment: { serviceAccountName: 'pipeline' } }));
      await own.submit('plain', job());
      const core = kubeConfigAs('admin').makeApiClient(CoreV1Api);
      const podOf = async (run: string) => {
        await waitForRun(OWN, run, inPhase('running', 'succeeded'));
        const pods = await core.listNamespacedPod({ namespace: OWN, labelSelector: `plinth.dev/run=${run}` });
        return pods.items[0]?.spec;
      };
      expect(await podOf('pipeline')).toMatchObject({
        serviceAccountName: 'pipeline',
        automountServiceAccountToken: true,
      });
      expect(await podOf('plain')).toMatchObject({
        serviceAccountName: 'plinth-run',
        automountServiceAccountToken: false,
      });
    });
  });

  describe('admission', () => {
    it('keeps a service that grows past its team quota at the size it was admitted for, saying so', async () => {
      const gpuService = (replicas: number): Partial<RunSpec> => ({
        kind: 'service',
        pool: 'gpu',
        service: {
          container: { image, resources: { limits: { 'nvidia.com/gpu': 1 } } },
          ports: [{ port: 8080 }],
          replicas,
        },
      });
      await own.submit('grows', gpuService(1));
      await waitForRun(OWN, 'grows', inPhase('running'));
      await patchRun(OWN, 'grows', { service: { replicas: 20 } });
      const grown = await waitForRun(OWN, 'grows', (r) => r.status?.reason === 'WaitingForQuota');
      expect(grown.status).toMatchObject({
        phase: 'running',
        message: "asks for 20 GPUs, more than team vision's whole quota of 16; it keeps the 1 it holds",
      });
      const deployment = await kubeConfigAs('admin')
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: 'grows', namespace: OWN });
      expect(deployment.spec?.replicas).toBe(1);
    });
  });
});
