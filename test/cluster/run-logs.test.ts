import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { LOGS_FINALIZER } from '../../controller/api/logs.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { cluster, eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { logArchiveAccess, readArchive, type LogArchiveAccess } from '../support/log-archive.js';
import { logsOfRun, pythonJob } from '../support/python-runs.js';
import { runLogsPrefix } from '../../model/store-layout.js';
import { deleteRuns, getRun, inPhase, patchRun, submittedRuns, waitForRun } from '../support/runs.js';
import { configOf } from '../support/platform.js';

/**
 * Every line a run prints is archived (controller/logs/): real containers on the real `cpu` node
 * print, the controller follows their logs through the API server and writes them to the platform's
 * store, and the test reads the archive back from the store once the pods are gone.
 */
const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
const core = () => admin().makeApiClient(CoreV1Api);
const { names: created, submit } = submittedRuns(NS);
const RUN_TIMEOUT_MS = 180_000;
const store = configOf('local').artifacts;
let controller: ControllerProcess;
let archive: LogArchiveAccess;

/** Every archived line of a run, by pod and container, in order, without the kubelet's timestamps. */
async function archived(run: string): Promise<Map<string, string[]>> {
  if (store.kind !== 's3') throw new Error('the local environment keeps its artifacts in S3');
  const uid = (await getRun(NS, run)).metadata.uid ?? '';
  const logs = await readArchive(archive, store, 'vision', uid);
  return new Map([...logs].map(([where, log]) => [where, log.lines]));
}

/** The main containers' lines of a run, every pod's, in pod order. */
const mainLines = (logs: Map<string, string[]>) =>
  [...logs].filter(([where]) => where.endsWith('/main')).flatMap(([, lines]) => lines);

const numbered = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `line ${from + i}`);

/** Waits until no pod of the run is left: each was archived and let go. */
async function podsGone(run: string): Promise<void> {
  await eventually(
    `the pods of ${run} to be archived and gone`,
    async () => {
      const pods = await core().listNamespacedPod({ namespace: NS, labelSelector: `${PLINTH_LABELS.run}=${run}` });
      return pods.items.length === 0 ? true : undefined;
    },
    120_000,
  );
}

async function deletePodsOf(run: string): Promise<void> {
  await core().deleteCollectionNamespacedPod({ namespace: NS, labelSelector: `${PLINTH_LABELS.run}=${run}` });
}

describe('run logs are archived', { timeout: RUN_TIMEOUT_MS + 120_000 }, () => {
  beforeAll(async () => {
    const access = cluster().realNodes.length > 0 ? logArchiveAccess() : undefined;
    if (!access)
      throw new Error('logs are archived from real nodes, and the cluster has none (PLINTH_NODES=simulated?)');
    archive = await access;
    controller = await startSyncedController('logs');
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, created);
    expect(await controller.stop()).toBe(0);
  });

  it('keeps all 50,000 lines of a run, in order, after its pod is deleted', async () => {
    await submit(
      'chatty',
      pythonJob(['import sys', 'for i in range(50000): print(f"line {i}")', 'print("done", file=sys.stderr)']),
    );
    await waitForRun(NS, 'chatty', inPhase('succeeded'), RUN_TIMEOUT_MS);
    // What `kubectl logs` shows while the pod is there: the runtime's order, in which a line on
    // stderr may come before the last lines on stdout, however the script wrote them.
    const shown = (await logsOfRun(NS, 'chatty')).trim().split('\n');
    await deletePodsOf('chatty');
    await podsGone('chatty');
    const logs = await archived('chatty');
    const lines = mainLines(logs);
    expect(lines).toEqual(shown);
    expect(lines.filter((l) => l !== 'done')).toEqual(numbered(50_000));
    expect(lines.filter((l) => l === 'done')).toHaveLength(1);
    // The network gate printed nothing, and is archived as such.
    expect([...logs.keys()].every((k) => k.endsWith('/main'))).toBe(true);
  });

  it("keeps a stopped run's lines up to the stop", async () => {
    await submit(
      'stopped',
      pythonJob(['import time', 'for i in range(1000): print(f"line {i}", flush=True)', 'time.sleep(600)']),
    );
    await waitForRun(NS, 'stopped', inPhase('running'), RUN_TIMEOUT_MS);
    // The lines reach the archive within seconds, while the run still runs.
    await eventually('the first lines to be archived', async () =>
      mainLines(await archived('stopped')).length === 1000 ? true : undefined,
    );
    await patchRun(NS, 'stopped', { stopped: true });
    await waitForRun(NS, 'stopped', inPhase('stopped'), 120_000);
    await podsGone('stopped');
    expect(mainLines(await archived('stopped'))).toEqual(numbered(1000));
  });

  it("keeps every attempt's logs of a run retried twice", async () => {
    const job = pythonJob(['import os, sys', 'print("attempt on", os.environ["HOSTNAME"])', 'sys.exit(1)']);
    await submit('retried', { ...job, job: { ...job.job, termination: { maxRetries: 2 } } });
    const run = await waitForRun(NS, 'retried', inPhase('failed'), RUN_TIMEOUT_MS);
    expect(run.status?.attempts).toBe(3);
    await podsGoneOrDone('retried');
    const logs = await archived('retried');
    const pods = [...logs.keys()].filter((k) => k.endsWith('/main')).map((k) => k.split('/')[0]);
    expect(pods).toHaveLength(3);
    // Each pod's own line, naming that pod: three attempts, none mixed with another.
    expect(mainLines(logs).sort()).toEqual(pods.map((pod) => `attempt on ${pod}`).sort());
  });

  it('lets the team read its archived logs with its own credential, write none of them, and keeps every other team out', async () => {
    const uid = (await getRun(NS, 'stopped')).metadata.uid ?? '';
    const [where] = [...(await archived('stopped')).keys()];
    const key = `${runLogsPrefix(store.kind === 's3' ? store.prefix : '', 'vision', uid)}${where}/0000-000000.log`;
    const script = [
      'import os, boto3, botocore.exceptions',
      'bucket = os.environ["PLINTH_ARTIFACTS_URI"].removeprefix("s3://").split("/")[0]',
      `key = ${JSON.stringify(key)}`,
      's3 = boto3.client("s3")',
      'def attempt(label, call):',
      '    try:',
      '        print(label, call())',
      '    except botocore.exceptions.ClientError as error:',
      '        print(label, error.response["Error"]["Code"])',
      'attempt("read", lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().split("\\n")[0].split(" ", 1)[1])',
      'attempt("rewrite", lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"forged") and "allowed")',
    ];
    const readBy = async (namespace: string, name: string) => {
      const runs = submittedRuns(namespace);
      await runs.submit(name, pythonJob(script));
      const run = await waitForRun(namespace, name, inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
      const lines = (await logsOfRun(namespace, name)).trim().split('\n');
      await deleteRuns(admin(), namespace, [name]);
      expect(run.status?.phase, lines.join('\n')).toBe('succeeded');
      return lines;
    };
    expect(await readBy(NS, 'own-logs')).toEqual(['read line 0', 'rewrite AccessDenied']);
    expect(await readBy('plinth-nlp', 'other-logs')).toEqual(['read AccessDenied', 'rewrite AccessDenied']);
  });

  it('loses no line and writes none twice when the controller is killed mid-stream', async () => {
    await submit(
      'killed',
      pythonJob([
        'import time',
        'for i in range(20000):',
        '    print(f"line {i}", flush=True)',
        '    if i % 1000 == 999: time.sleep(0.5)',
      ]),
    );
    await waitForRun(NS, 'killed', inPhase('running'), RUN_TIMEOUT_MS);
    await eventually('some lines to be archived', async () =>
      mainLines(await archived('killed')).length > 0 ? true : undefined,
    );
    expect(await controller.stop('SIGKILL')).toBe(null);
    // Lines go on being printed while no controller follows them.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    controller = await startSyncedController('logs-again');
    await waitForRun(NS, 'killed', inPhase('succeeded'), RUN_TIMEOUT_MS);
    await podsGoneOrDone('killed');
    expect(mainLines(await archived('killed'))).toEqual(numbered(20_000));
  });
});

/** Waits until every pod of the run has ended and been let go by the archiver (its finalizer off). */
async function podsGoneOrDone(run: string): Promise<void> {
  await eventually(
    `the pods of ${run} to be archived`,
    async () => {
      const pods = await core().listNamespacedPod({ namespace: NS, labelSelector: `${PLINTH_LABELS.run}=${run}` });
      return pods.items.every((p) => !(p.metadata?.finalizers ?? []).includes(LOGS_FINALIZER)) ? true : undefined;
    },
    120_000,
  );
}
