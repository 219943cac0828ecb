import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../../stacks/environments/index.js';
import { cluster, kubeConfigAs } from '../support/cluster-clients.js';
import { startSyncedController, type ControllerProcess } from '../support/controller.js';
import { logsOfRun, pythonJob } from '../support/python-runs.js';
import { deleteRuns, getRun, inPhase, submittedRuns, waitForRun } from '../support/runs.js';
import { SYNC_SECONDS } from '../../controller/runs/outputs-sync.js';

/**
 * Runs that really execute: a Python script in the platform's runtime image, on the real `cpu`
 * node, under the security floor. What the script prints is read back through the API server
 * (`kubectl logs`), so each figure here was computed by the run, not by a simulator.
 */
const NS = 'plinth-vision';
const admin = () => kubeConfigAs('admin');
/** The ids the platform runs every run as, from the environment's config. */
const { security } = validatePlatformConfig('local', environments['local']);
const { names: created, submit } = submittedRuns(NS);
let controller: ControllerProcess;
/** A real pod starts in seconds, but the first on a node after `up` waits for its images to unpack. */
const RUN_TIMEOUT_MS = 180_000;

const logsOf = (run: string) => logsOfRun(NS, run);

/** Submits a script run and returns its log lines once it has succeeded; fails with its status otherwise. */
async function linesOfSucceeded(name: string, lines: readonly string[]): Promise<string[]> {
  await submit(name, pythonJob(lines));
  const run = await waitForRun(NS, name, inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
  const logs = await logsOf(name);
  expect(run.status?.phase, `${JSON.stringify(run.status)}\n${logs}`).toBe('succeeded');
  return logs.trim().split('\n');
}

/** Python: the bucket and the run's own prefix in it, from the artifact env the platform sets. */
const ARTIFACTS = 'bucket, _, prefix = os.environ["PLINTH_ARTIFACTS_URI"].removeprefix("s3://").partition("/")';

describe('runs on real nodes', { timeout: RUN_TIMEOUT_MS + 30_000 }, () => {
  beforeAll(async () => {
    if (cluster().realNodes.length === 0) {
      throw new Error('these runs execute on real nodes, and the cluster has none (PLINTH_NODES=simulated?)');
    }
    // Its runs get their MLflow runs, as on a platform: a script's `mlflow.start_run()` attaches to one.
    controller = await startSyncedController('execution', { tracking: true });
  });
  afterAll(async () => {
    await deleteRuns(admin(), NS, created);
    expect(await controller.stop()).toBe(0);
  });

  it("runs the user's Python in the runtime image, with numpy, and its output reaches kubectl logs", async () => {
    const lines = await linesOfSucceeded('hello', [
      'import numpy, sklearn',
      'for i in range(3): print(f"line {i}")',
      'print("sum", int(numpy.arange(10).sum()))',
    ]);
    expect(lines).toEqual(['line 0', 'line 1', 'line 2', 'sum 45']);
  });

  it('logs a param and a metric to the tracking server and writes a file to the artifact store, both read back', async () => {
    const written = await linesOfSucceeded('tracked', [
      'import os, boto3, mlflow',
      // The run's own MLflow run, which the platform made (run-tracking.test.ts).
      'with mlflow.start_run() as run:',
      '    mlflow.log_param("alpha", "0.5")',
      '    mlflow.log_metric("loss", 0.25)',
      ARTIFACTS,
      'key = prefix.rstrip("/") + "/real-execution/" + run.info.run_id + ".txt"',
      'boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"written by a run")',
      'print(run.info.run_id, bucket, key)',
    ]);
    // The last line is the script's; MLflow's client logs above it.
    const [runId, bucket, key] = written.at(-1)?.split(' ') ?? [];
    expect(key).toMatch(/\/real-execution\//);
    // Read back by another run, through MLflow's REST API and the S3 API, as the team's code would.
    const read = await linesOfSucceeded('reader', [
      'import json, os, urllib.request, boto3',
      `url = os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/get?run_id=${runId}"`,
      'data = json.load(urllib.request.urlopen(url, timeout=30))["run"]["data"]',
      'print("param", {p["key"]: p["value"] for p in data["params"]}["alpha"])',
      'print("metric", {m["key"]: m["value"] for m in data["metrics"]}["loss"])',
      `body = boto3.client("s3").get_object(Bucket=${JSON.stringify(bucket)}, Key=${JSON.stringify(key)})["Body"].read()`,
      'print("file", body.decode())',
    ]);
    expect(read.slice(-3)).toEqual(['param 0.5', 'metric 0.25', 'file written by a run']);
  });

  it("keeps a run's team credential out of another team's prefixes and the platform's", async () => {
    const lines = await linesOfSucceeded('trespass', [
      'import os, boto3, botocore.exceptions',
      ARTIFACTS,
      'root = prefix.split("/outputs/")[0]',
      's3 = boto3.client("s3")',
      'def attempt(label, call):',
      '    try:',
      '        call(); print(label, "allowed")',
      '    except botocore.exceptions.ClientError as error:',
      '        print(label, error.response["Error"]["Code"])',
      'attempt("own-outputs", lambda: s3.put_object(Bucket=bucket, Key=prefix.rstrip("/") + "/mine.txt", Body=b"x"))',
      'attempt("other-outputs", lambda: s3.put_object(Bucket=bucket, Key=root + "/outputs/nlp/forged.txt", Body=b"x"))',
      'attempt("other-list", lambda: s3.list_objects_v2(Bucket=bucket, Prefix=root + "/outputs/nlp/"))',
      'attempt("tracking-root", lambda: s3.list_objects_v2(Bucket=bucket, Prefix=root + "/mlflow/"))',
      'attempt("backups", lambda: s3.list_objects_v2(Bucket=bucket, Prefix=root + "/postgres/"))',
    ]);
    expect(lines).toEqual([
      'own-outputs allowed',
      'other-outputs AccessDenied',
      'other-list AccessDenied',
      'tracking-root AccessDenied',
      'backups AccessDenied',
    ]);
  });

  it('runs as the configured uid and gid, not as pid 1, with a read-only root, writing only to its scratch /tmp', async () => {
    const lines = await linesOfSucceeded('floor', [
      'import os, pathlib',
      'print("uid", os.getuid(), "gid", os.getgid())',
      'print("pid 1 is", "this script" if os.getpid() == 1 else "not this script")',
      'for path in ["/usr/local/owned", "/owned"]:',
      '    try:',
      '        pathlib.Path(path).write_text("x"); print("wrote", path)',
      '    except OSError as e:',
      '        print("refused", path, e.strerror)',
      'pathlib.Path("/tmp/scratch").write_text("x"); print("wrote /tmp/scratch")',
    ]);
    expect(lines[0]).toBe(`uid ${security.runAsUser} gid ${security.runAsGroup}`);
    // Not pid 1, so SIGTERM ends the script when the run is stopped, without a handler of its own.
    expect(lines[1]).toBe('pid 1 is not this script');
    expect(lines).toContain('refused /usr/local/owned Read-only file system');
    expect(lines).toContain('refused /owned Read-only file system');
    expect(lines.filter((l) => l.startsWith('wrote'))).toEqual(['wrote /tmp/scratch']);
  });

  it("copies a run's outputs path to its own prefix: a checkpoint while it runs, the file of its last line at its end", async () => {
    const written = await linesOfSucceeded('trains', [
      'import os, pathlib, time',
      'out = pathlib.Path(os.environ["PLINTH_RUN_OUTPUTS_PATH"])',
      '(out / "checkpoints").mkdir()',
      '(out / "checkpoints" / "epoch-1.txt").write_text("weights after epoch 1")',
      // Past one copy while the run runs, and the next file at the very end.
      `time.sleep(${SYNC_SECONDS + 2})`,
      'import boto3',
      'bucket, _, prefix = os.environ["PLINTH_RUN_OUTPUTS_URI"].removeprefix("s3://").partition("/")',
      'boto3.client("s3").head_object(Bucket=bucket, Key=prefix + "/checkpoints/epoch-1.txt")',
      'print("the checkpoint is in the store while the run runs")',
      '(out / "model.txt").write_text("final weights")',
      'print(os.environ["PLINTH_RUN_OUTPUTS_URI"])',
    ]);
    expect(written).toContain('the checkpoint is in the store while the run runs');
    const uri = written.at(-1) ?? '';
    const uid = (await getRun(NS, 'trains')).metadata.uid;
    expect(uri).toBe(`s3://plinth-local/plinth/outputs/vision/${uid}`);
    // Read back by another run of the team, with the team's credential, as its code would.
    const read = await linesOfSucceeded('outputs-reader', [
      'import boto3',
      `bucket, _, prefix = ${JSON.stringify(uri)}.removeprefix("s3://").partition("/")`,
      's3 = boto3.client("s3")',
      'for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/")["Contents"]:',
      '    body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()',
      '    print(o["Key"].removeprefix(prefix + "/"), body)',
    ]);
    expect(read).toEqual(['checkpoints/epoch-1.txt weights after epoch 1', 'model.txt final weights']);
  });

  it("resumes a run in its own outputs, and copies a run's outputs into a prefix of the copy's own", async () => {
    const trains = (await getRun(NS, 'trains')).metadata.uid ?? '';
    const looks = [
      'import os, pathlib',
      'out = pathlib.Path(os.environ["PLINTH_RUN_OUTPUTS_PATH"])',
      'for path in sorted(p for p in out.rglob("*") if p.is_file()):',
      '    print(path.relative_to(out), path.read_text())',
      '(out / "checkpoints" / "epoch-2.txt").write_text("weights after epoch 2")',
      'print(os.environ["PLINTH_RUN_OUTPUTS_URI"].rsplit("/", 1)[1])',
    ];
    const found = ['checkpoints/epoch-1.txt weights after epoch 1', 'model.txt final weights'];
    await submit('resumes', pythonJob(looks, { spec: { resumeFrom: { name: 'trains' } } }));
    const resumed = await waitForRun(NS, 'resumes', inPhase('succeeded', 'failed'), RUN_TIMEOUT_MS);
    expect(resumed.status?.phase, JSON.stringify(resumed.status)).toBe('succeeded');
    // It found the checkpoint at its outputs path, and its outputs are the first run's.
    expect((await logsOf('resumes')).trim().split('\n')).toEqual([...found, trains]);

    await submit('copies', pythonJob(looks, { spec: { copyFrom: { uid: trains } } }));
    await waitForRun(NS, 'copies', inPhase('succeeded'), RUN_TIMEOUT_MS);
    const copy = (await getRun(NS, 'copies')).metadata.uid ?? '';
    // The copy starts with what the resumed run added, in a prefix of its own.
    expect((await logsOf('copies')).trim().split('\n')).toEqual([
      'checkpoints/epoch-1.txt weights after epoch 1',
      'checkpoints/epoch-2.txt weights after epoch 2',
      'model.txt final weights',
      copy,
    ]);
    const listed = await linesOfSucceeded('lists-outputs', [
      'import os, boto3',
      'bucket, _, prefix = os.environ["PLINTH_ARTIFACTS_URI"].removeprefix("s3://").partition("/")',
      `for uid in [${JSON.stringify(trains)}, ${JSON.stringify(copy)}]:`,
      '    items = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{uid}/")["Contents"]',
      '    print(len(items))',
    ]);
    expect(listed).toEqual(['3', '3']);
  });

  it('fails a run that resumes a run the team has not, or one that kept no outputs, saying why', async () => {
    await submit('resumes-nothing', pythonJob(['print("never")'], { spec: { resumeFrom: { name: 'no-such-run' } } }));
    const unnamed = await waitForRun(NS, 'resumes-nothing', inPhase('failed'), RUN_TIMEOUT_MS);
    expect(unnamed.status?.reason).toBe('OutputsSourceNotFound');
    expect(unnamed.status?.message).toContain('spec.resumeFrom.name: no run "no-such-run"');
    const gone = '0f0e0d0c-0b0a-4009-8807-060504030201';
    await submit('copies-nothing', pythonJob(['print("never")'], { spec: { copyFrom: { uid: gone } } }));
    const empty = await waitForRun(NS, 'copies-nothing', inPhase('failed'), RUN_TIMEOUT_MS);
    expect(empty.status?.message).toContain(`no outputs at s3://plinth-local/plinth/outputs/vision/${gone}`);
  });

  it('fails a script that exits 3, naming the exit code', async () => {
    await submit('exit-3', pythonJob(['import sys', 'print("giving up")', 'sys.exit(3)']));
    const run = await waitForRun(NS, 'exit-3', inPhase('failed'), RUN_TIMEOUT_MS);
    expect(run.status?.message).toContain('exited with code 3');
    expect(await logsOf('exit-3')).toBe('giving up\n');
  });

  it('diagnoses a script that outgrows its memory limit as OOMKilled', async () => {
    await submit(
      'oom',
      pythonJob(['import numpy', 'chunks = [numpy.ones(16 * 2**20) for _ in range(64)]'], {
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '96Mi' } },
      }),
    );
    const run = await waitForRun(NS, 'oom', inPhase('failed'), RUN_TIMEOUT_MS);
    expect(run.status?.reason).toBe('OOMKilled');
    expect(run.status?.message).toContain('OOMKilled');
  });
});
