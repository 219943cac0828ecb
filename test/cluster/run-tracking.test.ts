import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults } from '../../controller/api/platform-defaults.js';
import type { Run } from '../../controller/api/run.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { CONTROLLER_NAME, trackingHost } from '../../model/names.js';
import { environments } from '../../stacks/environments/index.js';
import { cluster, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { logsOfRun, pythonJob } from '../support/python-runs.js';
import { deleteRuns, inPhase, patchRun, submittedRuns, waitForRun } from '../support/runs.js';
import { trackingClient, trackingEndpoint } from '../support/tracking.js';

/**
 * Every run gets an MLflow run in its team's experiment before its pod starts; the run's own
 * `mlflow.start_run()` attaches to it, and it ends as the run ended. Real runs on the real `cpu`
 * node, logging to the real tracking server; the test reads the MLflow runs back through the
 * server's REST API.
 */
const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
const config = validatePlatformConfig('local', environments['local']);
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;
const RUN_TIMEOUT_MS = 180_000;
/** The ConfigMap of the controller that waits 2 s for the tracking server. */
const OUTAGE_DEFAULTS = `${CONTROLLER_NAME}-tracking-outage`;

const trackedOf = (run: Run) => run.status?.conditions?.find((c) => c.type === 'Tracked');
/** Once the run has finished and its MLflow run was told how. */
const recorded = (run: Run) => trackedOf(run)?.reason === 'TrackingRecorded';

/** The script prints what the platform told it, then logs to the MLflow run `start_run()` attaches to. */
const TRACKED_SCRIPT = [
  'import os, mlflow',
  'print("env", os.environ.get("MLFLOW_RUN_ID"), os.environ.get("MLFLOW_EXPERIMENT_ID"))',
  'with mlflow.start_run() as run:',
  '    mlflow.log_metric("loss", 0.25)',
  // An artifact, written with the team's own store credential under the team's outputs.
  '    mlflow.log_text("written by a run", "note.txt")',
  '    print("run", run.info.run_id, run.info.experiment_id)',
  // What it reports, beside its metrics.
  'open("/dev/termination-log", "w").write(\'{"model": "resnet"}\')',
];

describe('runs tracked in MLflow', { timeout: RUN_TIMEOUT_MS + 60_000 }, () => {
  beforeAll(async () => {
    if (cluster().realNodes.length === 0) {
      throw new Error('these runs execute on real nodes, and the cluster has none (PLINTH_NODES=simulated?)');
    }
    controller = await startSyncedController('tracking', { tracking: true });
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, created);
    expect(await controller.stop()).toBe(0);
    await dropOwnDefaults(OUTAGE_DEFAULTS);
  });

  it("makes each run's MLflow run before its pod, with its params and tags; the run's code logs to it; it ends FINISHED", async () => {
    await submit('tracked', pythonJob(TRACKED_SCRIPT, { spec: { params: [{ name: 'LR', value: '0.01' }] } }));
    const run = await waitForRun(NS, 'tracked', recorded, RUN_TIMEOUT_MS);
    const logs = await logsOfRun(NS, 'tracked');
    expect(run.status?.phase, logs).toBe('succeeded');
    const tracking = run.status?.tracking;
    if (!tracking) throw new Error(`no status.tracking: ${JSON.stringify(run.status)}`);
    // The container was told the MLflow run, and `start_run()` attached to that one.
    const lines = logs.trim().split('\n');
    expect(lines).toContain(`env ${tracking.runId} ${tracking.experimentId}`);
    // MLflow's client prints where to view the run around it.
    expect(lines).toContain(`run ${tracking.runId} ${tracking.experimentId}`);
    expect(tracking.url).toBe(
      `https://${trackingHost(config)}/#/experiments/${tracking.experimentId}/runs/${tracking.runId}`,
    );

    const mlflow = await trackingClient();
    const experiment = await mlflow.experimentByName('teams/vision');
    expect(experiment?.experiment_id).toBe(tracking.experimentId);
    expect(experiment?.artifact_location).toMatch(/\/outputs\/vision\/mlflow$/);
    const mlflowRun = await mlflow.getRun(tracking.runId);
    expect(mlflowRun.info).toMatchObject({ status: 'FINISHED', run_name: 'tracked' });
    expect(mlflowRun.data.params).toEqual([{ key: 'LR', value: '0.01' }]);
    expect(mlflowRun.data.metrics).toEqual([expect.objectContaining({ key: 'loss', value: 0.25 })]);
    const tags = Object.fromEntries((mlflowRun.data.tags ?? []).map((t) => [t.key, t.value]));
    expect(tags).toMatchObject({
      'plinth.dev/run-uid': run.metadata.uid,
      'plinth.dev/team': 'vision',
      'plinth.dev/kind': 'job',
      'plinth.dev/pool': 'cpu',
    });
    expect(trackedOf(run)).toMatchObject({ status: 'True', message: `MLflow run ${tracking.runId} ended FINISHED` });

    // Exactly what ran, in the status and on the MLflow run; and what it reported, with its metrics.
    const main = run.status?.images?.find((i) => i.container === 'main');
    expect(main?.imageID).toMatch(/sha256:[0-9a-f]{64}$/);
    expect(tags['plinth.dev/image/main']).toBe(main?.imageID);
    expect(tags['plinth.dev/platform-version']).toBe(run.status?.platformVersion);
    expect(run.status?.platformVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(run.status?.outputs).toEqual({ model: 'resnet', loss: 0.25 });
  });

  it("ends a failed run's MLflow run FAILED and a stopped one's KILLED", async () => {
    await submit('tracked-fails', pythonJob(['import sys', 'sys.exit(3)']));
    await submit('tracked-stopped', pythonJob(['import time', 'print("started", flush=True)', 'time.sleep(600)']));
    await waitForRun(NS, 'tracked-stopped', inPhase('running'), RUN_TIMEOUT_MS);
    await patchRun(NS, 'tracked-stopped', { stopped: true });
    const mlflow = await trackingClient();
    for (const [name, phase, status] of [
      ['tracked-fails', 'failed', 'FAILED'],
      ['tracked-stopped', 'stopped', 'KILLED'],
    ] as const) {
      const run = await waitForRun(NS, name, recorded, RUN_TIMEOUT_MS);
      expect(run.status?.phase).toBe(phase);
      const runId = run.status?.tracking?.runId ?? '';
      expect((await mlflow.getRun(runId)).info.status, name).toBe(status);
    }
  });

  it('starts a run without an MLflow run while the tracking server does not answer, says so, and links one once it does', async () => {
    // The platform's controller gives way to one that reaches the tracking server through a proxy
    // this test opens only later, and that waits 2 s for it (tracking.waitSeconds), from a
    // ConfigMap of its own, which its ServiceAccount is let read.
    expect(await controller.stop()).toBe(0);
    await ownDefaults(OUTAGE_DEFAULTS, (d) => ({ ...d, tracking: { ...d.tracking, waitSeconds: 2 } }));
    const proxy = await closedProxy(new URL((await trackingEndpoint()) ?? '').port);
    controller = await startSyncedController('tracking-outage', {
      configMap: OUTAGE_DEFAULTS,
      tracking: proxy.url,
    });
    try {
      await submit('untracked', pythonJob(TRACKED_SCRIPT.slice(0, 2)));
      const started = await waitForRun(NS, 'untracked', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
      expect(started.status?.phase).toBe('succeeded');
      expect(trackedOf(started)).toMatchObject({ status: 'False', reason: 'TrackingUnavailable' });
      expect(trackedOf(started)?.message).toMatch(/did not answer within 2s/);
      expect(started.status?.tracking).toBeUndefined();
      expect((await logsOfRun(NS, 'untracked')).trim()).toBe('env None None');

      // The server answers again: the finished run gets its MLflow run, ended as the run ended.
      await proxy.open();
      const linked = await waitForRun(NS, 'untracked', recorded, 90_000);
      const runId = linked.status?.tracking?.runId ?? '';
      const recordedRun = await (await trackingClient()).getRun(runId);
      expect(recordedRun.info).toMatchObject({ status: 'FINISHED', run_name: 'untracked' });
    } finally {
      proxy.close();
    }
  });
});

/**
 * A copy of the platform defaults, changed, in a ConfigMap the controller's ServiceAccount may
 * read (its own Role names only its ConfigMap).
 */
async function ownDefaults(name: string, change: (defaults: PlatformDefaults) => PlatformDefaults): Promise<void> {
  const core = admin().makeApiClient(CoreV1Api);
  const rbac = admin().makeApiClient(RbacAuthorizationV1Api);
  const namespace = config.namespace;
  const platform = await core.readNamespacedConfigMap({ name: CONTROLLER_NAME, namespace });
  const defaults = JSON.parse(platform.data?.[PLATFORM_DEFAULTS_KEY] ?? '{}') as PlatformDefaults;
  const ignoreExisting = (error: unknown) => {
    if ((error as { code?: number }).code !== 409) throw error;
  };
  await core
    .createNamespacedConfigMap({
      namespace,
      body: { metadata: { name }, data: { [PLATFORM_DEFAULTS_KEY]: JSON.stringify(change(defaults)) } },
    })
    .catch(ignoreExisting);
  await rbac
    .createNamespacedRole({
      namespace,
      body: {
        metadata: { name },
        rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [name], verbs: ['get', 'list', 'watch'] }],
      },
    })
    .catch(ignoreExisting);
  await rbac
    .createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace }],
      },
    })
    .catch(ignoreExisting);
}

async function dropOwnDefaults(name: string): Promise<void> {
  const namespace = config.namespace;
  const ignoreMissing = (error: unknown) => {
    if ((error as { code?: number }).code !== 404) throw error;
  };
  await admin().makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ name, namespace }).catch(ignoreMissing);
  const rbac = admin().makeApiClient(RbacAuthorizationV1Api);
  await rbac.deleteNamespacedRoleBinding({ name, namespace }).catch(ignoreMissing);
  await rbac.deleteNamespacedRole({ name, namespace }).catch(ignoreMissing);
}

/**
 * A TCP proxy to the tracking server's port-forward, on a port nothing listens on until `open`:
 * until then every connection is refused, as when the server is down.
 */
async function closedProxy(targetPort: string): Promise<{ url: string; open(): Promise<void>; close(): void }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  let server: Server | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    open: () =>
      new Promise((resolve) => {
        server = createServer((client) => {
          const upstream = connect(Number(targetPort), '127.0.0.1');
          client.pipe(upstream).pipe(client);
          client.on('error', () => upstream.destroy());
          upstream.on('error', () => client.destroy());
        }).listen(port, '127.0.0.1', () => resolve());
      }),
    close: () => server?.close(),
  };
}
