import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, HttpMethod } from '@kubernetes/client-node';
import { requestApi } from '../../controller/runtime/kube-config.js';
import { NODE_NETWORK } from '../../local-cluster/host-network.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { cluster, eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { readLogsApi, registerLogsApi, routeLogsApiTo, runLogsPath, unregisterLogsApi } from '../support/logs-api.js';
import { pythonJob } from '../support/python-runs.js';
import { deleteRuns, getRun, inPhase, patchRun, submittedRuns, waitForRun } from '../support/runs.js';

/**
 * The logs API (controller/logs-api/), as a team reads its runs' logs: through the Kubernetes API
 * server, which authenticates the caller and authorizes `runlogs` with RBAC, then forwards the read
 * to the controller, which streams it from the pod while it exists and from the archive after.
 * Real containers print on the real `cpu` node; the callers are the cluster's real identities.
 */
const NS = 'plinth-vision';
const VIEWER = 'vision-observer';
const OTHER_TEAM = 'nlp-researchers-member';
const PLATFORM_ADMIN = 'platform-engineers-member';
const admin = () => kubeConfigAs('admin');
const { names: created, submit } = submittedRuns(NS);
const RUN_TIMEOUT_MS = 180_000;
let controller: ControllerProcess;

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`);
const linesOf = (text: string) => text.split('\n').filter((l) => l.length > 0);

/** Prints `n` lines in bursts, flushed, so that a reader that follows gets them as they come. */
const burstsOf = (n: number, thenSleepSeconds = 0) =>
  pythonJob([
    'import time',
    `for i in range(${n}):`,
    '    print(f"line {i}", flush=True)',
    '    if i % 250 == 249: time.sleep(0.3)',
    ...(thenSleepSeconds > 0 ? [`time.sleep(${thenSleepSeconds})`] : []),
  ]);

async function podsGone(run: string): Promise<void> {
  const core = admin().makeApiClient(CoreV1Api);
  await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: `${PLINTH_LABELS.run}=${run}` });
  await eventually(
    `the pods of ${run} to be archived and gone`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `${PLINTH_LABELS.run}=${run}` });
      return pods.items.length === 0 ? true : undefined;
    },
    120_000,
  );
}

/**
 * Follows a run's main log as an identity, calling `onLines` with the count so far as lines come,
 * and resolves with every line once the API server ends the stream.
 */
async function follow(identity: string, run: string, onLines: (count: number) => void = () => undefined) {
  const path = runLogsPath(NS, run, true, { container: 'main', follow: 'true' });
  const response = await requestApi(kubeConfigAs(identity), HttpMethod.GET, path, { headers: { accept: '*/*' } });
  expect(response.statusCode).toBe(200);
  let text = '';
  try {
    for await (const chunk of response.body) {
      text += (chunk as Buffer).toString('utf8');
      onLines(linesOf(text).length);
    }
  } catch (error) {
    // What the controller said of the read, which the API server's broken stream does not.
    const said = controller.logs
      .filter((l) => ['warn', 'error'].includes(String(l['level'])))
      .map((l) => JSON.stringify(l));
    throw new Error(
      `${(error as Error).message} after ${linesOf(text).length} lines; controller:\n${said.join('\n')}`,
      {
        cause: error,
      },
    );
  }
  return linesOf(text);
}

describe('the logs API', { timeout: RUN_TIMEOUT_MS + 180_000 }, () => {
  beforeAll(async () => {
    if (cluster().realNodes.length === 0) {
      throw new Error('logs are read from real nodes, and the cluster has none (PLINTH_NODES=simulated?)');
    }
    await registerLogsApi();
    controller = await startSyncedController('logs-api', { logsApi: true });
    await routeLogsApiTo(controller.logsApiPort ?? 0);
  });
  afterAll(async () => {
    await unregisterLogsApi();
    await deleteRuns(admin(), NS, created);
    expect(await controller.stop()).toBe(0);
  });

  it("streams a run's log to its team while it runs, and the same lines from the archive once its pods are gone", async () => {
    await submit('followed', burstsOf(3000));
    await waitForRun(NS, 'followed', inPhase('running'), RUN_TIMEOUT_MS);
    // Followed from while it runs to its end: every line once, in order.
    expect(await follow(VIEWER, 'followed')).toEqual(numbered(3000));
    await waitForRun(NS, 'followed', inPhase('succeeded'), 60_000);

    await podsGone('followed');
    const archived = await readLogsApi(VIEWER, runLogsPath(NS, 'followed', true, { container: 'main' }));
    expect(archived.status, archived.text).toBe(200);
    expect(linesOf(archived.text)).toEqual(numbered(3000));

    // The whole run: each line labelled with its pod and container; the kubelet's times if asked.
    const whole = await readLogsApi(VIEWER, runLogsPath(NS, 'followed', true, { timestamps: 'true' }));
    const labelled = linesOf(whole.text).map((l) => /^\[([^/]+)\/([^\]]+)\] (\S+) (.*)$/.exec(l));
    expect(labelled.every((m) => m !== null)).toBe(true);
    expect(labelled.every((m) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(m?.[3] ?? ''))).toBe(true);
    expect(labelled.filter((m) => m?.[2] === 'main').map((m) => m?.[4])).toEqual(numbered(3000));

    // What the run has a log of, as an object.
    const object = await readLogsApi(VIEWER, runLogsPath(NS, 'followed', false));
    const runLogs = JSON.parse(object.text) as {
      kind: string;
      metadata: { creationTimestamp?: string };
      runUid: string;
      finished: boolean;
      containers: { pod: string; container: string; archived: boolean; live: boolean }[];
    };
    expect(runLogs.kind).toBe('RunLogs');
    const run = await getRun(NS, 'followed');
    expect(runLogs.runUid).toBe(run.metadata.uid);
    // The run's age, as `kubectl get runlogs` shows it.
    expect(runLogs.metadata.creationTimestamp).toBe(run.metadata.creationTimestamp);
    expect(runLogs.finished).toBe(true);
    expect(runLogs.containers.filter((c) => c.container === 'main')).toEqual([
      { pod: expect.stringMatching(/^followed-/), container: 'main', archived: true, live: false },
    ]);
  });

  it('follows a stopped run from its pod into the archive, with no line lost or given twice', async () => {
    await submit('stopped', burstsOf(1000, 600));
    await waitForRun(NS, 'stopped', inPhase('running'), RUN_TIMEOUT_MS);
    let stopping: Promise<void> | undefined;
    // A platform admin reads every team's logs; the stop comes once every line was printed.
    const lines = await follow(PLATFORM_ADMIN, 'stopped', (count) => {
      if (count >= 1000) stopping ??= patchRun(NS, 'stopped', { stopped: true });
    });
    await stopping;
    expect(lines).toEqual(numbered(1000));
    await waitForRun(NS, 'stopped', inPhase('stopped'), 60_000);
  });

  it("refuses another team's member and any caller but the API server, and says what a read got wrong", async () => {
    const refused = await readLogsApi(OTHER_TEAM, runLogsPath(NS, 'followed', true));
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('runlogs/log');

    const noContainer = await readLogsApi(VIEWER, runLogsPath(NS, 'followed', true, { container: 'nope' }));
    expect(noContainer.status).toBe(404);
    expect(noContainer.text).toMatch(/has no log of container \\"nope\\"; it has: .*followed-[a-z0-9]+\/main/);
    const misspelt = await readLogsApi(VIEWER, runLogsPath(NS, 'followed', true, { folow: 'true' }));
    expect(misspelt.status).toBe(400);
    expect(misspelt.text).toContain('unknown parameter \\"folow\\"');

    // Past the API server, the controller's port answers no one else: no front-proxy certificate, no read.
    const direct = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: NODE_NETWORK.hostAddress,
          port: controller.logsApiPort,
          path: runLogsPath(NS, 'followed', true),
          rejectUnauthorized: false,
          headers: { 'X-Remote-User': 'vision-observer', 'X-Remote-Group': 'system:authenticated' },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(direct.status).toBe(401);
    expect(direct.text).toContain('only the Kubernetes API server');

    // A deleted run's logs are read by its uid, while they are kept.
    const uid = (await getRun(NS, 'followed')).metadata.uid ?? '';
    await deleteRuns(admin(), NS, ['followed']);
    const byName = await readLogsApi(VIEWER, runLogsPath(NS, 'followed', true));
    expect(byName.status).toBe(404);
    expect(byName.text).toContain('(?uid=)');
    const byUid = await readLogsApi(VIEWER, runLogsPath(NS, 'followed', true, { container: 'main', uid }));
    expect(byUid.status, byUid.text).toBe(200);
    expect(linesOf(byUid.text)).toEqual(numbered(3000));
  });
});
