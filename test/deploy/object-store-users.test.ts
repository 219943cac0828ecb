import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePlatformToolchain } from '../../local-cluster/toolchain.js';
import {
  OBJECT_STORE_COMPONENT,
  OBJECT_STORE_HEALTH_PATH,
  OBJECT_STORE_PORTS,
  objectStoreAdminEndpoint,
  objectStoreEndpoint,
  STORE_USERS_COMPONENT,
  teamArtifactStoreSecretName,
} from '../../model/names.js';
import { storeSecrets } from '../../constructs/store-users.js';
import { configOf, find, objectsOf } from '../support/platform.js';

/**
 * The platform's own store and its users without a cluster: the real versitygw from the toolchain,
 * started with the arguments the local Deployment gives it, and the store-users Job's own script
 * and plan as the local chart renders them, run with the env the Job sets, against it. Then each
 * credential is tried with real S3 calls, which is what scopes a team to its prefixes.
 */
const config = configOf('local');
const objects = objectsOf('local');
const store = config.artifacts.kind === 's3' ? config.artifacts : undefined;
const platformSecret = store && 'secret' in store.credentials ? store.credentials.secret.name : '';
const admin = { accessKeyId: 'plinth-root', secretAccessKey: randomBytes(20).toString('hex') };
const secrets = storeSecrets(config).map((s) => ({ ...s, data: s.stringData(admin) }));
const secretData = (name: string) => {
  const found = secrets.find((s) => s.name === name);
  if (!found) throw new Error(`no Secret ${name} among storeSecrets`);
  return found.data;
};

type Container = {
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  volumeMounts?: { name: string; mountPath: string }[];
};
const podOf = (kind: string, name: string) =>
  (find(objects, kind, name)['spec'] as { template: { spec: { containers: Container[] } } }).template.spec;

const dir = mkdtempSync(join(tmpdir(), 'plinth-object-store-'));
let server: ChildProcess | undefined;
let endpoints: { s3: string; admin: string };
let python: string;

/** A free port on loopback, as the kernel hands one out. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The in-cluster addresses and paths of the rendered objects, as they are on this machine. */
function local(value: string, paths: Record<string, string>): string {
  let out = value
    .split(objectStoreEndpoint(config.namespace))
    .join(endpoints.s3)
    .split(objectStoreAdminEndpoint(config.namespace))
    .join(endpoints.admin);
  for (const [from, to] of Object.entries(paths)) if (out.startsWith(from)) out = to + out.slice(from.length);
  return out;
}

function envOf(container: Container, paths: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    (container.env ?? []).map((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      const value = ref ? secretData(ref.name)[ref.key] : e.value;
      if (value === undefined)
        throw new Error(`env ${e.name}: neither a value nor a key of a Secret storeSecrets writes`);
      return [e.name, local(value, paths)];
    }),
  );
}

/** A python3 with boto3, as the init image has it: the Job's script and the probes run on it. */
function pythonWithBoto3(): string {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error('no python3 with boto3 on this machine: install python3-boto3 (Debian), as .ci/run does');
}

function runJob(): { status: number | null; stdout: string; stderr: string } {
  const pod = podOf('Job', STORE_USERS_COMPONENT);
  const job = pod.containers[0]!;
  const planDir = join(dir, 'plan');
  const keysDir = join(dir, 'keys');
  const mounts = Object.fromEntries((job.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
  const plan = find(objects, 'ConfigMap', STORE_USERS_COMPONENT)['data'] as Record<string, string>;
  mkdirSync(planDir, { recursive: true });
  mkdirSync(keysDir, { recursive: true });
  for (const [file, text] of Object.entries(plan)) writeFileSync(join(planDir, file), text);
  for (const [key, value] of Object.entries(secretData(STORE_USERS_COMPONENT)))
    writeFileSync(join(keysDir, key), value);
  const paths = { [mounts['plan']!]: planDir, [mounts['keys']!]: keysDir };
  const [, ...args] = (job.command ?? []).map((part) => local(part, paths));
  return spawnSync(python, args, {
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: `${dirname(ensurePlatformToolchain().versitygw)}${delimiter}${process.env['PATH'] ?? ''}`,
      ...envOf(job, paths),
    },
  });
}

beforeAll(async () => {
  python = pythonWithBoto3();
  const binary = ensurePlatformToolchain().versitygw;
  const [s3Port, adminPort] = [await freePort(), await freePort()];
  endpoints = { s3: `http://127.0.0.1:${s3Port}`, admin: `http://127.0.0.1:${adminPort}` };
  const data = join(dir, 'data');
  const container = podOf('Deployment', OBJECT_STORE_COMPONENT).containers[0]!;
  const args = (container.args ?? []).map((arg) =>
    arg
      .replace(`=:${OBJECT_STORE_PORTS.s3}`, `=127.0.0.1:${s3Port}`)
      .replace(`=:${OBJECT_STORE_PORTS.admin}`, `=127.0.0.1:${adminPort}`)
      .replace(/(^|=)\/data\//, `$1${data}/`),
  );
  // What the init container makes on a fresh claim.
  for (const folder of ['objects', 'metadata', 'users']) mkdirSync(join(data, folder), { recursive: true });
  server = spawn(binary, args, { env: envOf(container, {}), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const healthy = await fetch(`${endpoints.s3}${OBJECT_STORE_HEALTH_PATH}`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`versitygw did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(() => {
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** One S3 call as one credential: whether the store allowed it. */
interface Probe {
  readonly as: string;
  readonly op: 'put' | 'get' | 'delete' | 'list' | 'head-bucket';
  readonly key?: string;
}

/** Runs the probes in one python process (boto3, path-style, as runs reach the store), in order. */
function probe(probes: readonly Probe[], keys: Record<string, { id: string; secret: string }>): string[] {
  const script = `
import json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
request = json.load(sys.stdin)
clients = {
    who: boto3.client("s3", endpoint_url=request["endpoint"], region_name=request["region"],
                      aws_access_key_id=k["id"], aws_secret_access_key=k["secret"],
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    for who, k in request["keys"].items()
}
bucket = request["bucket"]
results = []
for p in request["probes"]:
    s3 = clients[p["as"]]
    try:
        if p["op"] == "put": s3.put_object(Bucket=bucket, Key=p["key"], Body=b"written by " + p["as"].encode())
        elif p["op"] == "get": s3.get_object(Bucket=bucket, Key=p["key"])["Body"].read()
        elif p["op"] == "delete": s3.delete_object(Bucket=bucket, Key=p["key"])
        elif p["op"] == "list": s3.list_objects_v2(Bucket=bucket, Prefix=p["key"])
        elif p["op"] == "head-bucket": s3.head_bucket(Bucket=bucket)
        results.append("allowed")
    except ClientError as error:
        results.append(error.response["Error"]["Code"])
print(json.dumps(results))
`;
  const out = spawnSync(python, ['-c', script], {
    encoding: 'utf8',
    timeout: 120_000,
    input: JSON.stringify({ endpoint: endpoints.s3, region: store?.region, bucket: store?.bucket, keys, probes }),
  });
  if (out.status !== 0) throw new Error(`the probes failed:\n${out.stderr}`);
  return JSON.parse(out.stdout) as string[];
}

/** What a result says: a refusal, as S3 reports it (a HEAD has no body, so only its status), or any other error's code. */
const outcome = (result: string | undefined) =>
  result === 'AccessDenied' || result === '403' ? 'denied' : (result ?? 'no result');

/** Each probe with its result, for a table that names the one that differs. */
const table = (probes: readonly Probe[], results: readonly string[]) =>
  probes.map((p, i) => `${p.as} ${p.op} ${p.key ?? ''}: ${outcome(results[i])}`);

describe("the platform's own store (versitygw) and the store-users Job's script, on this machine", () => {
  it('makes every user, the bucket and its policy, and does so again when run again', () => {
    const first = runJob();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('team vision: user plinth-local-vision');
    expect(first.stdout).toContain('the platform (tracking, backups): user plinth-local');
    expect(first.stdout).toContain('bucket plinth-local: made, owned by the root user');
    const again = runJob();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('bucket plinth-local: already there');
    // No secret key is printed (access key ids are users' names).
    const secretKeys = secrets
      .flatMap((s) => Object.entries(s.data))
      .filter(([key]) => !key.endsWith('ACCESS_KEY_ID'))
      .map(([, value]) => value);
    expect(secretKeys.length).toBeGreaterThan(5);
    for (const value of secretKeys) expect(`${first.stdout}${again.stdout}`).not.toContain(value);
  });

  it("scopes each team's keys to its own prefixes, and the platform's to tracking and backups", () => {
    const keyOf = (secret: Record<string, string>) => ({
      id: secret['AWS_ACCESS_KEY_ID']!,
      secret: secret['AWS_SECRET_ACCESS_KEY']!,
    });
    const keys = {
      root: { id: admin.accessKeyId, secret: admin.secretAccessKey },
      vision: keyOf(secretData(teamArtifactStoreSecretName('vision'))),
      nlp: keyOf(secretData(teamArtifactStoreSecretName('nlp'))),
      platform: keyOf(secretData(platformSecret)),
    };
    // What the platform writes: each team's logs, and some of each team's outputs.
    const seeded: Probe[] = [
      { as: 'root', op: 'put', key: 'plinth/logs/vision/run-1/log.txt' },
      { as: 'root', op: 'put', key: 'plinth/logs/nlp/run-2/log.txt' },
      { as: 'nlp', op: 'put', key: 'plinth/outputs/nlp/run-2/model.bin' },
    ];
    const probes: (Probe & { expect: 'allowed' | 'denied' })[] = [
      // A team's own outputs: write, read, list, delete.
      { as: 'vision', op: 'put', key: 'plinth/outputs/vision/run-1/model.bin', expect: 'allowed' },
      { as: 'vision', op: 'get', key: 'plinth/outputs/vision/run-1/model.bin', expect: 'allowed' },
      { as: 'vision', op: 'list', key: 'plinth/outputs/vision/', expect: 'allowed' },
      { as: 'vision', op: 'put', key: 'plinth/outputs/vision/run-1/scratch', expect: 'allowed' },
      { as: 'vision', op: 'delete', key: 'plinth/outputs/vision/run-1/scratch', expect: 'allowed' },
      // Its own logs: read and list, never write.
      { as: 'vision', op: 'get', key: 'plinth/logs/vision/run-1/log.txt', expect: 'allowed' },
      { as: 'vision', op: 'list', key: 'plinth/logs/vision/', expect: 'allowed' },
      { as: 'vision', op: 'put', key: 'plinth/logs/vision/run-1/forged.txt', expect: 'denied' },
      // Another team's outputs and logs: nothing.
      { as: 'vision', op: 'get', key: 'plinth/outputs/nlp/run-2/model.bin', expect: 'denied' },
      { as: 'vision', op: 'put', key: 'plinth/outputs/nlp/run-2/model.bin', expect: 'denied' },
      { as: 'vision', op: 'delete', key: 'plinth/outputs/nlp/run-2/model.bin', expect: 'denied' },
      { as: 'vision', op: 'list', key: 'plinth/outputs/nlp/', expect: 'denied' },
      { as: 'vision', op: 'get', key: 'plinth/logs/nlp/run-2/log.txt', expect: 'denied' },
      { as: 'vision', op: 'list', key: 'plinth/logs/nlp/', expect: 'denied' },
      // A prefix that only starts like its own, the whole bucket, the tracking root, the backups.
      { as: 'vision', op: 'list', key: 'plinth/outputs/vis', expect: 'denied' },
      { as: 'vision', op: 'list', key: '', expect: 'denied' },
      { as: 'vision', op: 'put', key: 'plinth/outputs/vision2/run-1/model.bin', expect: 'denied' },
      { as: 'vision', op: 'put', key: 'plinth/mlflow/1/artifacts/model.bin', expect: 'denied' },
      { as: 'vision', op: 'list', key: 'plinth/mlflow/', expect: 'denied' },
      { as: 'vision', op: 'put', key: 'plinth/postgres/plinth-db/wals/forged.gz', expect: 'denied' },
      // The other team, the other way.
      { as: 'nlp', op: 'get', key: 'plinth/outputs/vision/run-1/model.bin', expect: 'denied' },
      { as: 'nlp', op: 'get', key: 'plinth/outputs/nlp/run-2/model.bin', expect: 'allowed' },
      // The platform's keys: every team's outputs and the tracking root, its backups; no logs.
      { as: 'platform', op: 'get', key: 'plinth/outputs/vision/run-1/model.bin', expect: 'allowed' },
      { as: 'platform', op: 'get', key: 'plinth/outputs/nlp/run-2/model.bin', expect: 'allowed' },
      { as: 'platform', op: 'list', key: 'plinth/outputs/', expect: 'allowed' },
      { as: 'platform', op: 'put', key: 'plinth/mlflow/1/artifacts/model.bin', expect: 'allowed' },
      { as: 'platform', op: 'get', key: 'plinth/mlflow/1/artifacts/model.bin', expect: 'allowed' },
      { as: 'platform', op: 'head-bucket', expect: 'allowed' },
      { as: 'platform', op: 'put', key: 'plinth/postgres/plinth-db/wals/0001.gz', expect: 'allowed' },
      { as: 'platform', op: 'get', key: 'plinth/postgres/plinth-db/wals/0001.gz', expect: 'allowed' },
      { as: 'platform', op: 'get', key: 'plinth/logs/vision/run-1/log.txt', expect: 'denied' },
      { as: 'platform', op: 'put', key: 'plinth/logs/vision/run-1/forged.txt', expect: 'denied' },
      // A team cannot ask whether the bucket is there: that is listing it whole.
      { as: 'vision', op: 'head-bucket', expect: 'denied' },
    ];
    expect(table(seeded, probe(seeded, keys))).toEqual(
      table(
        seeded,
        seeded.map(() => 'allowed'),
      ),
    );
    expect(table(probes, probe(probes, keys))).toEqual(
      table(
        probes,
        probes.map((p) => p.expect),
      ),
    );
  });
});
