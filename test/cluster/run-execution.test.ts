import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { PLINTH_LABELS } from '../../model/labels.js';
import { imageReference, LOCAL_REGISTRY } from '../../images/reference.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../../stacks/environments/index.js';
import { cluster, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { deleteRuns, inPhase, submittedRuns, waitForRun } from '../support/runs.js';

/**
 * Runs that really execute: a Python script in the platform's runtime image, on the real `cpu`
 * node, under the security floor. What the script prints is read back through the API server
 * (`kubectl logs`), so each figure here was computed by the run, not by a simulator.
 */
const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
const python = imageReference('python', LOCAL_REGISTRY);
/** The ids the platform runs every run as, from the environment's config. */
const { security } = validatePlatformConfig('local', environments['local']);
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;
/** A real pod starts in seconds, but the first on a node after `up` waits for its images to unpack. */
const RUN_TIMEOUT_MS = 180_000;

/** A job run of a Python script, given line by line, on the real cpu pool. */
const script = (lines: readonly string[], resources?: object) => ({
  pool: 'cpu',
  job: {
    container: { image: python, command: ['python3', '-c', lines.join('\n')], ...(resources ? { resources } : {}) },
  },
});

async function logsOf(run: string): Promise<string> {
  const core = admin().makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `${PLINTH_LABELS.run}=${run}` });
  const pod = pods.items[0]?.metadata?.name;
  if (!pod) throw new Error(`run ${run} has no pod`);
  return core.readNamespacedPodLog({ name: pod, namespace: NS, container: 'main' });
}

describe('runs on real nodes', { timeout: RUN_TIMEOUT_MS + 30_000 }, () => {
  beforeAll(async () => {
    if (cluster().realNodes.length === 0) {
      throw new Error('these runs execute on real nodes, and the cluster has none (PLINTH_NODES=simulated?)');
    }
    controller = await startSyncedController('execution');
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, created);
    expect(await controller.stop()).toBe(0);
  });

  it("runs the user's Python in the runtime image, with numpy, and its output reaches kubectl logs", async () => {
    await submit(
      'hello',
      script([
        'import numpy, sklearn',
        'for i in range(3): print(f"line {i}")',
        'print("sum", int(numpy.arange(10).sum()))',
      ]),
    );
    const run = await waitForRun(NS, 'hello', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('succeeded');
    expect(await logsOf('hello')).toBe('line 0\nline 1\nline 2\nsum 45\n');
  });

  it('logs a param and a metric to the tracking server and writes a file to the artifact store, both read back', async () => {
    await submit(
      'tracked',
      script([
        'import os, boto3, mlflow',
        'mlflow.set_experiment("real-execution")',
        'with mlflow.start_run() as run:',
        '    mlflow.log_param("alpha", "0.5")',
        '    mlflow.log_metric("loss", 0.25)',
        'bucket, _, prefix = os.environ["PLINTH_ARTIFACTS_URI"].removeprefix("s3://").partition("/")',
        'key = prefix.rstrip("/") + "/real-execution/" + run.info.run_id + ".txt"',
        'boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"written by a run")',
        'print(run.info.run_id, bucket, key)',
      ]),
    );
    const written = await waitForRun(NS, 'tracked', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
    expect(written.status?.phase, JSON.stringify(written.status)).toBe('succeeded');
    // The last line is the script's; MLflow's client logs above it.
    const [runId, bucket, key] = (await logsOf('tracked')).trim().split('\n').at(-1)?.split(' ') ?? [];
    expect(key).toMatch(/\/real-execution\//);
    // Read back by another run, through MLflow's REST API and the S3 API, as the team's code would.
    await submit(
      'reader',
      script([
        'import json, os, urllib.request, boto3',
        `url = os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/get?run_id=${runId}"`,
        'data = json.load(urllib.request.urlopen(url, timeout=30))["run"]["data"]',
        'print("param", {p["key"]: p["value"] for p in data["params"]}["alpha"])',
        'print("metric", {m["key"]: m["value"] for m in data["metrics"]}["loss"])',
        `body = boto3.client("s3").get_object(Bucket=${JSON.stringify(bucket)}, Key=${JSON.stringify(key)})["Body"].read()`,
        'print("file", body.decode())',
      ]),
    );
    const read = await waitForRun(NS, 'reader', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
    expect(read.status?.phase, JSON.stringify(read.status)).toBe('succeeded');
    const lines = (await logsOf('reader')).trim().split('\n');
    expect(lines.slice(-3)).toEqual(['param 0.5', 'metric 0.25', 'file written by a run']);
  });

  it('runs as the configured uid and gid with a read-only root, writing only to its scratch /tmp', async () => {
    await submit(
      'floor',
      script([
        'import os, pathlib',
        'print("uid", os.getuid(), "gid", os.getgid())',
        'for path in ["/usr/local/owned", "/owned"]:',
        '    try:',
        '        pathlib.Path(path).write_text("x"); print("wrote", path)',
        '    except OSError as e:',
        '        print("refused", path, e.strerror)',
        'pathlib.Path("/tmp/scratch").write_text("x"); print("wrote /tmp/scratch")',
      ]),
    );
    const run = await waitForRun(NS, 'floor', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('succeeded');
    const lines = (await logsOf('floor')).trim().split('\n');
    expect(lines[0]).toBe(`uid ${security.runAsUser} gid ${security.runAsGroup}`);
    expect(lines).toContain('refused /usr/local/owned Read-only file system');
    expect(lines).toContain('refused /owned Read-only file system');
    expect(lines.filter((l) => l.startsWith('wrote'))).toEqual(['wrote /tmp/scratch']);
  });

  it('fails a script that exits 3, naming the exit code', async () => {
    await submit('exit-3', script(['import sys', 'print("giving up")', 'sys.exit(3)']));
    const run = await waitForRun(NS, 'exit-3', inPhase('failed'), RUN_TIMEOUT_MS);
    expect(run.status?.message).toContain('exited with code 3');
    expect(await logsOf('exit-3')).toBe('giving up\n');
  });

  it('diagnoses a script that outgrows its memory limit as OOMKilled', async () => {
    await submit(
      'oom',
      script(['import numpy', 'chunks = [numpy.ones(16 * 2**20) for _ in range(64)]'], {
        requests: { cpu: '100m', memory: '64Mi' },
        limits: { memory: '96Mi' },
      }),
    );
    const run = await waitForRun(NS, 'oom', inPhase('failed'), RUN_TIMEOUT_MS);
    expect(run.status?.reason).toBe('OOMKilled');
    expect(run.status?.message).toContain('OOMKilled');
  });
});
