import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, AppsV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import packageJson from '../../package.json' with { type: 'json' };
import { GPU_TAINT } from '../../model/pools.js';
import { CONTROLLER_METRICS as M, RUN_CONTROLLER_NAME } from '../../controller/api/metrics.js';
import { DURATION_ANNOTATION, MOUNT_FAILURE_MESSAGE, SIMULATE_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { sample } from '../support/prometheus.js';
import { deleteRuns, inPhase, patchRun, submitRun, submittedRuns, waitForRun } from '../support/runs.js';

const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;

const ingressOf = (name: string) =>
  admin().makeApiClient(NetworkingV1Api).readNamespacedIngress({ name, namespace: NS });

describe('the controller runs jobs and services', () => {
  beforeAll(async () => {
    controller = await startSyncedController('lifecycle');
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, created);
    expect(await controller.stop()).toBe(0);
  });

  it('takes a GPU job to succeeded on a GPU node, with the platform defaults on its Job', async () => {
    await submit('train-gpu', {
      pool: 'gpu',
      params: [{ name: 'LR', value: '0.01' }],
      job: { container: { image, resources: { limits: { 'nvidia.com/gpu': 2 } } } },
    });
    const run = await waitForRun(NS, 'train-gpu', inPhase('succeeded', 'failed'));
    expect(run.status).toMatchObject({ phase: 'succeeded', reason: 'Completed', attempts: 1 });
    expect(run.status?.startedAt).toBeDefined();
    expect(run.status?.finishedAt).toBeDefined();

    const job = await admin().makeApiClient(BatchV1Api).readNamespacedJob({ name: 'train-gpu', namespace: NS });
    const pod = job.spec?.template.spec;
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Run', name: 'train-gpu', controller: true });
    expect(pod?.nodeSelector).toEqual({ 'plinth.dev/pool': 'gpu' });
    expect(pod?.tolerations).toContainEqual({
      key: GPU_TAINT.key,
      operator: 'Equal',
      value: GPU_TAINT.value,
      effect: GPU_TAINT.effect,
    });
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.serviceAccountName).toBe('plinth-run');
    const main = pod?.containers[0];
    expect(main?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    const env = Object.fromEntries((main?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      LR: '0.01',
      MLFLOW_TRACKING_URI: 'http://tracking.plinth.svc:5000',
      // The team's own outputs, with the team's own credential: never the platform's.
      PLINTH_ARTIFACTS_URI: 's3://plinth-local/plinth/outputs/vision',
    });
    expect(env['AWS_SECRET_ACCESS_KEY']).toEqual({
      secretKeyRef: { name: 'artifact-store-vision', key: 'AWS_SECRET_ACCESS_KEY' },
    });
    expect(job.metadata?.labels).toMatchObject({
      'plinth.dev/run': 'train-gpu',
      'plinth.dev/team': 'vision',
      'app.kubernetes.io/managed-by': 'plinth',
    });
  });

  it('keeps what a run may set of its security, and the floor for the rest', async () => {
    // What goes below the floor is refused at apply time (run-validation.test.ts).
    await submit('own-uid', {
      job: {
        container: {
          image,
          securityContext: {
            runAsUser: 2000,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['NET_RAW'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
        } as never,
      },
    });
    await waitForRun(NS, 'own-uid', inPhase('succeeded', 'failed'));
    const job = await admin().makeApiClient(BatchV1Api).readNamespacedJob({ name: 'own-uid', namespace: NS });
    expect(job.spec?.template.spec?.containers[0]?.securityContext).toEqual({
      runAsUser: 2000,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('retries a failing pod maxRetries times, then fails the run with the reason', async () => {
    await submit('flaky', {
      environment: { annotations: { [SIMULATE_ANNOTATION]: 'fail', [DURATION_ANNOTATION]: '200ms' } },
      job: { container: { image }, termination: { maxRetries: 1 } },
    });
    const run = await waitForRun(NS, 'flaky', inPhase('succeeded', 'failed'), 90_000);
    expect(run.status).toMatchObject({ phase: 'failed', reason: 'Error', attempts: 2 });
    expect(run.status?.message).toBe('failed after 2 attempt(s): container main exited with code 1 (Error)');
  });

  it('reports an OOMKilled run as such', async () => {
    await submit('oom', {
      environment: { annotations: { [SIMULATE_ANNOTATION]: 'oom', [DURATION_ANNOTATION]: '200ms' } },
      job: { container: { image } },
    });
    const run = await waitForRun(NS, 'oom', inPhase('succeeded', 'failed'));
    expect(run.status).toMatchObject({ phase: 'failed', reason: 'OOMKilled' });
    expect(run.status?.message).toContain('container main was OOMKilled: raise its memory limit');
  });

  it('reports an image that cannot be pulled, naming the image, and never as running', async () => {
    const typo = 'ghcr.io/plinth-dev/trian:1.0.0';
    await submit('bad-image', {
      environment: { annotations: { [SIMULATE_ANNOTATION]: 'image-pull' } },
      job: { container: { image: typo } },
    });
    const run = await waitForRun(NS, 'bad-image', inPhase('warning'));
    expect(run.status?.reason).toBe('ImagePullError');
    expect(run.status?.message).toBe(
      `cannot pull image ${typo}: Back-off pulling image "${typo}": ErrImagePull: ${typo}: not found`,
    );
    expect(run.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Scheduled', status: 'True' }));
    expect(run.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Running', status: 'False', reason: 'ImagePullError' }),
    );
  });

  it('reports a crash-looping service with the exit code and the restarts, once it stops being ready', async () => {
    await submit('crashing', {
      kind: 'service',
      environment: { annotations: { [SIMULATE_ANNOTATION]: 'crash-loop', [DURATION_ANNOTATION]: '5s' } },
      service: { container: { image }, ports: [{ name: 'http', port: 8080 }] },
    });
    await waitForRun(NS, 'crashing', inPhase('running'));
    const run = await waitForRun(NS, 'crashing', inPhase('warning'));
    expect(run.status).toMatchObject({
      reason: 'CrashLoopBackOff',
      message: 'container main keeps crashing (exit code 1); restarted 3 times',
    });
  });

  it('marks a run asking for more GPUs than any node has unschedulable, naming nvidia.com/gpu', async () => {
    await submit('too-big', {
      pool: 'gpu',
      job: { container: { image, resources: { limits: { 'nvidia.com/gpu': 9 } } } },
    });
    const run = await waitForRun(NS, 'too-big', inPhase('unschedulable'));
    expect(run.status?.reason).toBe('InsufficientGPU');
    expect(run.status?.message).toMatch(
      /no node has enough free nvidia\.com\/gpu for the pod: .*Insufficient nvidia\.com\/gpu/,
    );
    expect(run.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Scheduled', status: 'False', reason: 'InsufficientGPU' }),
    );
    expect(run.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Running', status: 'False' }));
  });

  it('reports a pod the team ResourceQuota refuses, with the quota message, while the Job waits', async () => {
    // 32 CPUs: beyond the team's 16, which admission (GPUs and concurrent runs) does not count.
    await submit('too-much-cpu', {
      pool: SIMULATED_CPU_POOL,
      job: { container: { image, resources: { requests: { cpu: '32' }, limits: { cpu: '32' } } } },
    });
    const run = await waitForRun(NS, 'too-much-cpu', inPhase('warning'));
    expect(run.status?.reason).toBe('QuotaExceeded');
    expect(run.status?.message).toMatch(/^cannot create the pod: .*exceeded quota: team-quota.*requests\.cpu=32/);
  });

  it('names a node selector that no node matches', async () => {
    await submit('no-node', {
      pool: SIMULATED_CPU_POOL,
      environment: { nodeSelector: { 'nvidia.com/gpu.product': 'nvidia-a100' } },
      job: { container: { image } },
    });
    const run = await waitForRun(NS, 'no-node', inPhase('unschedulable'));
    expect(run.status?.reason).toBe('NoMatchingNode');
    expect(run.status?.message).toBe(
      `no node has all of the labels the pod selects: nvidia.com/gpu.product=nvidia-a100, plinth.dev/pool=${SIMULATED_CPU_POOL}`,
    );
  });

  it('says a run waits for a node the cluster autoscaler adds, and why it will add none', async () => {
    // A pool at zero nodes looks, to the scheduler, like a selector no node matches.
    await submit('awaits-node', {
      pool: SIMULATED_CPU_POOL,
      environment: { nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' } },
      job: { container: { image } },
    });
    await waitForRun(NS, 'awaits-node', inPhase('unschedulable'));
    const core = admin().makeApiClient(CoreV1Api);
    const [pod] = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'plinth.dev/run=awaits-node' })).items;
    // The events the cluster autoscaler records on a pending pod, as it records them.
    const autoscalerSays = async (reason: string, message: string) => {
      const now = new Date();
      await core.createNamespacedEvent({
        namespace: NS,
        body: {
          metadata: { generateName: `${pod?.metadata?.name}.` },
          involvedObject: {
            kind: 'Pod',
            apiVersion: 'v1',
            namespace: NS,
            name: pod?.metadata?.name,
            uid: pod?.metadata?.uid,
          },
          reason,
          message,
          type: 'Normal',
          source: { component: 'cluster-autoscaler' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    };
    const scaleUp = 'pod triggered scale-up: [{eks-plinth-local-cpu-7ac2 0->1 (max: 3)}]';
    await autoscalerSays('TriggeredScaleUp', scaleUp);
    const waiting = await waitForRun(NS, 'awaits-node', inPhase('queued'));
    expect(waiting.status).toMatchObject({
      reason: 'NodeProvisioning',
      message: `waiting for a new node: the cluster autoscaler says ${scaleUp}`,
    });
    // Event times are whole seconds: the refusal must come in a later one to be the latest.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const refusal = "pod didn't trigger scale-up: 1 max node group size reached";
    await autoscalerSays('NotTriggerScaleUp', refusal);
    const refused = await waitForRun(NS, 'awaits-node', inPhase('unschedulable'));
    expect(refused.status?.reason).toBe('NoMatchingNode');
    expect(refused.status?.message).toMatch(new RegExp(`; the cluster autoscaler will not add a node: ${refusal}$`));
  });

  it('connects a run to the connections it names, and names a missing volume claim until it is made', async () => {
    // The team's admin keeps the token; a platform engineer makes the dataset claim.
    const core = (who: string) => kubeConfigAs(who).makeApiClient(CoreV1Api);
    await core('vision-lead').createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'huggingface' }, stringData: { HF_TOKEN: 'hf_not_a_real_token' } },
    });
    await submit('fine-tune', {
      pool: SIMULATED_CPU_POOL,
      connections: ['huggingface', 'datasets'],
      job: { container: { image } },
    });
    const waiting = await waitForRun(NS, 'fine-tune', inPhase('unschedulable'));
    expect(waiting.status?.reason).toBe('VolumeClaimNotFound');
    expect(waiting.status?.message).toMatch(
      /^a volume claim the pod mounts does not exist in the run's namespace: .*persistentvolumeclaim "datasets" not found/,
    );

    const claim = { storageClassName: '', accessModes: ['ReadOnlyMany'], volumeName: 'datasets-vision' };
    await core('admin').createPersistentVolume({
      body: {
        metadata: { name: 'datasets-vision' },
        spec: {
          ...claim,
          capacity: { storage: '1Gi' },
          hostPath: { path: '/srv/datasets' },
          claimRef: { namespace: NS, name: 'datasets' },
        },
      },
    });
    await core('admin').createNamespacedPersistentVolumeClaim({
      namespace: NS,
      body: { metadata: { name: 'datasets' }, spec: { ...claim, resources: { requests: { storage: '1Gi' } } } },
    });
    expect((await waitForRun(NS, 'fine-tune', inPhase('succeeded', 'failed'))).status?.phase).toBe('succeeded');

    const job = await admin().makeApiClient(BatchV1Api).readNamespacedJob({ name: 'fine-tune', namespace: NS });
    const pod = job.spec?.template.spec;
    const main = pod?.containers[0];
    expect(main?.envFrom).toEqual([{ secretRef: { name: 'huggingface' } }]);
    expect(main?.env).toContainEqual({ name: 'HF_HUB_DISABLE_TELEMETRY', value: '1' });
    expect(main?.volumeMounts).toContainEqual({ name: 'conn-datasets-claim', mountPath: '/datasets', readOnly: true });
    expect(pod?.volumes).toContainEqual({
      name: 'conn-datasets-claim',
      persistentVolumeClaim: { claimName: 'datasets', readOnly: true },
    });

    // The connection's egress NetworkPolicy selects the pods of this run, which names it, and no other.
    const policy = await admin()
      .makeApiClient(NetworkingV1Api)
      .readNamespacedNetworkPolicy({ name: 'allow-connection-huggingface', namespace: NS });
    const selector = Object.entries(policy.spec?.podSelector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
    expect(selector).toEqual(['connections.plinth.dev/huggingface=true']);
    const selected = await core('admin').listNamespacedPod({ namespace: NS, labelSelector: selector.join(',') });
    expect(selected.items.length).toBeGreaterThan(0);
    expect(new Set(selected.items.map((p) => p.metadata?.labels?.['plinth.dev/run']))).toEqual(new Set(['fine-tune']));
  });

  it('fails a run outside the team namespaces, saying why, and makes no Job for it', async () => {
    await submitRun('default', 'stray', { job: { container: { image } } });
    try {
      const run = await waitForRun('default', 'stray', inPhase('failed'));
      expect(run.status).toMatchObject({
        reason: 'NotATeamNamespace',
        message: 'namespace default belongs to no team of this platform',
      });
      await expect(
        admin().makeApiClient(BatchV1Api).readNamespacedJob({ name: 'stray', namespace: 'default' }),
      ).rejects.toThrow();
    } finally {
      await deleteRuns(admin(), 'default', ['stray']);
    }
  });

  it('names the Secret a connection mounts when the kubelet cannot find it', async () => {
    await submit('clone-repo', {
      pool: SIMULATED_CPU_POOL,
      connections: ['git'],
      environment: { annotations: { [SIMULATE_ANNOTATION]: 'mount-failure' } },
      job: { container: { image } },
    });
    const run = await waitForRun(NS, 'clone-repo', inPhase('warning'));
    expect(run.status).toMatchObject({
      reason: 'MountFailed',
      message: `cannot mount the pod's volumes: ${MOUNT_FAILURE_MESSAGE}`,
    });
    const job = await admin().makeApiClient(BatchV1Api).readNamespacedJob({ name: 'clone-repo', namespace: NS });
    expect(job.spec?.template.spec?.volumes).toContainEqual({
      name: 'conn-git-secret',
      secret: { secretName: 'git-credentials', defaultMode: 420 },
    });
  });

  it('stops a run mid-way, leaving no pod behind', async () => {
    await submit('long', {
      environment: { annotations: { [DURATION_ANNOTATION]: '10m' } },
      job: { container: { image } },
    });
    await waitForRun(NS, 'long', inPhase('running'));
    await patchRun(NS, 'long', { stopped: true });
    const run = await waitForRun(NS, 'long', inPhase('stopped'));
    expect(run.status?.message).toBe('stopped by request; every pod is gone');
    const pods = await admin()
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace: NS, labelSelector: 'plinth.dev/run=long' });
    expect(pods.items).toEqual([]);
    // The Job goes once the garbage collector lifts its foreground-deletion finalizer, which can
    // lag the pods' going on a busy machine.
    await eventually("the stopped run's Job to be gone", () =>
      admin()
        .makeApiClient(BatchV1Api)
        .readNamespacedJob({ name: 'long', namespace: NS })
        .then(
          () => undefined,
          (error: unknown) => (error instanceof ApiException && error.code === 404 ? true : undefined),
        ),
    );
  });

  it('gives a service run a Deployment and a Service, and reports it running', async () => {
    await submit('notebook', {
      kind: 'service',
      service: { container: { image }, ports: [{ name: 'http', port: 8888 }], replicas: 2 },
    });
    const run = await waitForRun(NS, 'notebook', inPhase('running'));
    expect(run.status?.message).toBe('2/2 replicas ready');
    const deployment = await admin()
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'notebook', namespace: NS });
    expect(deployment.spec?.replicas).toBe(2);
    const service = await admin().makeApiClient(CoreV1Api).readNamespacedService({ name: 'notebook', namespace: NS });
    expect(service.spec?.ports?.[0]).toMatchObject({ name: 'http', port: 8888 });
    expect(service.spec?.selector).toEqual({ 'plinth.dev/run': 'notebook' });
    // Not external: reachable in the cluster only, and not by the ingress controller.
    expect(run.status?.url).toBeUndefined();
    expect(deployment.spec?.template.metadata?.labels?.['plinth.dev/serves']).toBeUndefined();
    await expect(ingressOf('notebook')).rejects.toThrow(/HTTP-Code: 404/);
  });

  it("serves an external service at its path of the team's host over TLS, until it is no longer external", async () => {
    const host = 'vision.runs.plinth.localtest.me';
    await submit('board', {
      kind: 'service',
      service: { container: { image }, ports: [{ port: 6006 }], isExternal: true },
    });
    const run = await waitForRun(NS, 'board', inPhase('running'));
    expect(run.status?.url).toBe(`https://${host}/board/`);
    const ingress = await ingressOf('board');
    expect(ingress.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Run', name: 'board' });
    expect(ingress.spec?.tls).toEqual([{ hosts: [host], secretName: 'runs-tls' }]);
    expect(ingress.spec?.rules).toEqual([
      {
        host,
        http: {
          paths: [
            { path: '/board', pathType: 'Prefix', backend: { service: { name: 'board', port: { number: 6006 } } } },
          ],
        },
      },
    ]);
    const template = (await admin().makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'board', namespace: NS }))
      .spec?.template;
    expect(template?.metadata?.labels?.['plinth.dev/serves']).toBe('true');
    expect(template?.spec?.containers[0]?.env).toContainEqual({ name: 'PLINTH_SERVICE_PATH', value: '/board' });

    // Children deleted by hand are made again.
    await admin().makeApiClient(NetworkingV1Api).deleteNamespacedIngress({ name: 'board', namespace: NS });
    await admin().makeApiClient(CoreV1Api).deleteNamespacedService({ name: 'board', namespace: NS });
    await eventually('the Ingress and Service of board made again', async () => {
      const again = await ingressOf('board').catch(() => undefined);
      const service = await admin()
        .makeApiClient(CoreV1Api)
        .readNamespacedService({ name: 'board', namespace: NS })
        .catch(() => undefined);
      return again && service && again.metadata?.uid !== ingress.metadata?.uid ? true : undefined;
    });

    await patchRun(NS, 'board', { service: { isExternal: false } });
    await waitForRun(NS, 'board', (r) => r.status?.phase === 'running' && r.status.url === undefined);
    await expect(ingressOf('board')).rejects.toThrow(/HTTP-Code: 404/);
  });

  it('takes the Ingress of an external service away when the run is stopped', async () => {
    await submit('demo', {
      kind: 'service',
      service: { container: { image }, ports: [{ port: 8080 }], isExternal: true },
    });
    await waitForRun(NS, 'demo', inPhase('running'));
    await ingressOf('demo');
    await patchRun(NS, 'demo', { stopped: true });
    const run = await waitForRun(NS, 'demo', inPhase('stopped'));
    expect(run.status?.url).toBeUndefined();
    await expect(ingressOf('demo')).rejects.toThrow(/HTTP-Code: 404/);
  });

  it("exposes controller-runtime's metrics and runs by phase on /metrics", async () => {
    const { lease } = await controller.waitForLog((l) => l['msg'] === 'became leader');
    const text = await (await fetch(controller.metricsUrl)).text();
    const controllerLabels = { controller: RUN_CONTROLLER_NAME };
    const queueLabels = { name: RUN_CONTROLLER_NAME, controller: RUN_CONTROLLER_NAME };
    expect(sample(text, M.reconcileTotal, { ...controllerLabels, result: 'success' })).toBeGreaterThan(0);
    expect(sample(text, `${M.reconcileTime}_count`, controllerLabels)).toBeGreaterThan(0);
    expect(sample(text, M.reconcileErrors, controllerLabels)).toBeGreaterThanOrEqual(0);
    expect(sample(text, M.maxConcurrentReconciles, controllerLabels)).toBeGreaterThan(0);
    expect(sample(text, M.activeWorkers, controllerLabels)).toBeGreaterThanOrEqual(0);
    expect(sample(text, M.queueDepth, queueLabels)).toBeGreaterThanOrEqual(0);
    expect(sample(text, M.queueAdds, queueLabels)).toBeGreaterThan(0);
    expect(sample(text, `${M.queueDuration}_count`, queueLabels)).toBeGreaterThan(0);
    expect(sample(text, `${M.workDuration}_count`, queueLabels)).toBeGreaterThan(0);
    expect(sample(text, M.leaderStatus, { name: String(lease) })).toBe(1);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sample(text, M.buildInfo, { version: packageJson.version, node_version: process.version })).toBe(1);
    expect(text).toContain(`# TYPE ${M.runsByPhase} gauge`);
  });

  it('logs JSON lines with the level by name', async () => {
    const line = await controller.waitForLog((l) => l['msg'] === 'caches synced');
    expect(line['level']).toBe('info');
  });
});
