/**
 * `npm run bench:controller`: the controller against the local control plane.
 *
 * 1. N runs (default 500, BENCH_RUNS) in a team with room for all of them: the time until every
 *    one has succeeded, and the create-to-Job latency per run (p50, p99).
 * 2. Baseline, in the same cluster: a plain client creates the same N Jobs directly.
 *    Printed as the ratio of controller throughput to baseline throughput.
 * 3. A backlog (default 4,500 more, BENCH_BACKLOG) queued behind a small quota, so that 5,000
 *    Runs sit in the cluster; the controller's peak RSS (VmHWM) is read from /proc throughout.
 * Targets: ratio >= 0.8, p99 < 2 s at N=500, peak RSS < 200 MiB with 5,000 Runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch, type V1Job } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { desiredJob } from '../../controller/reconcile/desired-children.js';
import { platformDefaults } from '../../constructs/controller-deployment.js';
import type { PlatformConfigInput } from '../../constructs/config/schema.js';
import { validatePlatformConfig } from '../../constructs/config/validate.js';
import { renderPlatform } from '../../constructs/platform.js';
import { environments } from '../../stacks/environments/index.js';
import { applyOrThrow, installCrds, readCrds } from '../harness/apply.js';
import { startCluster, stopCluster } from '../harness/cluster.js';
import { SHARED_CRDS } from '../support/cluster.js';

const N = Number(process.env['BENCH_RUNS'] ?? 500);
const BACKLOG = Number(process.env['BENCH_BACKLOG'] ?? 4500);
const JOB_MS = 1000;
const CONCURRENCY = 16;

const log = (line: string) => console.error(`[bench] ${line}`);
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN;

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** The local platform, plus a team with room for the whole benchmark and one with a small quota for the backlog. */
function benchConfig() {
  const input = structuredClone(environments['local']) as PlatformConfigInput;
  const quota = { cpu: '1000', memory: '4Ti', gpu: 0 };
  input.teams = [
    ...(input.teams ?? []),
    { name: 'bench', members: [], quota: { ...quota, maxConcurrentRuns: N } },
    { name: 'backlog', members: [], quota: { ...quota, maxConcurrentRuns: 5 } },
  ];
  return validatePlatformConfig('local', input);
}

function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/\d+/)?.[0] ?? 0) / 1024;
}

const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-cluster-'));
try {
  const state = await startCluster({ dir, jobDurationMs: JOB_MS, nodesPerPool: 4 });
  const admin = new KubeConfig();
  admin.loadFromFile(state.kubeconfig);
  const config = benchConfig();
  await installCrds(admin, await readCrds(SHARED_CRDS));
  const objects = renderPlatform(config).flatMap((c) => c.objects as never[]);
  await applyOrThrow(
    admin,
    objects.filter((o: { kind: string }) => o.kind === 'Namespace'),
  );
  await applyOrThrow(admin, objects);
  const core = admin.makeApiClient(CoreV1Api);
  const batch = admin.makeApiClient(BatchV1Api);
  const runsApi = admin.makeApiClient(CustomObjectsApi);
  for (const ns of ['plinth-bench', 'plinth-backlog']) {
    for (
      let i = 0;
      !(await core.readNamespacedServiceAccount({ name: 'default', namespace: ns }).then(
        () => true,
        () => false,
      ));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // The controller, as its ServiceAccount.
  const token = (
    await core.createNamespacedServiceAccountToken({
      name: 'plinth-controller',
      namespace: 'plinth',
      body: { spec: { expirationSeconds: 7200 } },
    })
  ).status?.token;
  const kubeconfig = join(dir, 'controller.kubeconfig');
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: state.server, 'certificate-authority': state.caFile } }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
    { mode: 0o600 },
  );
  const controller = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'controller/main.ts',
      '--identity=bench',
      '--metrics-port=0',
      '--health-port=0',
      '--workers=16',
    ],
    {
      env: { ...process.env, KUBECONFIG: kubeconfig, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const pid = controller.pid ?? 0;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, peakRssMiB(pid))), 500);
  await new Promise((r) => setTimeout(r, 3000));

  // Watch Jobs: the moment each appears is the end of its run's create-to-Job latency.
  const jobSeen = new Map<string, number>();
  const jobDone = new Map<string, number>();
  const watch = await new Watch(admin).watch(
    '/apis/batch/v1/jobs',
    {},
    (_type, job: V1Job) => {
      const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
      if (!jobSeen.has(key)) jobSeen.set(key, performance.now());
      if (job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && !jobDone.has(key))
        jobDone.set(key, performance.now());
    },
    () => undefined,
  );

  // 1. Through the controller.
  const names = Array.from({ length: N }, (_, i) => `run-${i}`);
  const created = new Map<string, number>();
  log(`creating ${N} runs`);
  const t0 = performance.now();
  await inParallel(names, CONCURRENCY, async (name) => {
    await runsApi.createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace: 'plinth-bench',
      body: {
        apiVersion: `${RUN_GROUP}/${RUN_VERSION}`,
        kind: 'Run',
        metadata: { name },
        spec: { kind: 'job', pool: 'cpu', container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } },
      },
    });
    created.set(name, performance.now());
  });
  for (;;) {
    const list = (await runsApi.listNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace: 'plinth-bench',
    })) as { items: Run[] };
    const done = list.items.filter((r) => r.status?.phase === 'succeeded').length;
    if (done === N) break;
    const failed = list.items.filter((r) => r.status?.phase === 'failed').length;
    if (failed > 0) throw new Error(`${failed} runs failed`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const controllerSeconds = (performance.now() - t0) / 1000;
  const latencies = names.map((n) => (jobSeen.get(`plinth-bench/${n}`) ?? NaN) - (created.get(n) ?? NaN));
  log(`controller: ${N} runs succeeded in ${controllerSeconds.toFixed(1)} s`);

  // 2. Baseline: the same Jobs, created directly.
  const defaults = platformDefaults(config);
  const t1 = performance.now();
  await inParallel(names, CONCURRENCY, async (name) => {
    const job = desiredJob(
      {
        apiVersion: 'plinth.dev/v1alpha1',
        kind: 'Run',
        metadata: { name, namespace: 'plinth-backlog', uid: 'baseline' },
        spec: { kind: 'job', pool: 'cpu', container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } },
      },
      defaults,
      'backlog',
    );
    delete job.metadata?.ownerReferences;
    await batch.createNamespacedJob({ namespace: 'plinth-backlog', body: job });
  });
  while (names.some((n) => !jobDone.has(`plinth-backlog/${n}`))) await new Promise((r) => setTimeout(r, 250));
  const baselineSeconds = (performance.now() - t1) / 1000;
  log(`baseline: ${N} Jobs completed in ${baselineSeconds.toFixed(1)} s`);
  await batch.deleteCollectionNamespacedJob({ namespace: 'plinth-backlog', propagationPolicy: 'Background' });

  // 3. A backlog, so that N + BACKLOG runs sit in the cluster.
  log(`creating a backlog of ${BACKLOG} runs behind a quota of 5 concurrent runs`);
  const backlog = Array.from({ length: BACKLOG }, (_, i) => `queued-${i}`);
  await inParallel(backlog, CONCURRENCY, async (name) => {
    await runsApi.createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace: 'plinth-backlog',
      body: {
        apiVersion: `${RUN_GROUP}/${RUN_VERSION}`,
        kind: 'Run',
        metadata: { name },
        spec: { kind: 'job', pool: 'cpu', container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } },
      },
    });
  });
  for (;;) {
    const list = (await runsApi.listNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace: 'plinth-backlog',
    })) as { items: Run[] };
    if (list.items.every((r) => r.status?.phase)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(sampler);
  peak = Math.max(peak, peakRssMiB(pid));
  watch.abort();
  controller.kill('SIGTERM');

  const ratio = baselineSeconds / controllerSeconds;
  console.log(`\nruns: ${N}, job duration ${JOB_MS} ms, ${CONCURRENCY} concurrent creates`);
  console.log(
    `controller: all ${N} succeeded in ${controllerSeconds.toFixed(1)} s (${(N / controllerSeconds).toFixed(1)} runs/s)`,
  );
  console.log(
    `baseline:   all ${N} Jobs completed in ${baselineSeconds.toFixed(1)} s (${(N / baselineSeconds).toFixed(1)} jobs/s)`,
  );
  console.log(`throughput ratio controller/baseline: ${ratio.toFixed(2)} (target >= 0.8)`);
  console.log(
    `create-to-Job latency: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms (target p99 < 2000 ms)`,
  );
  console.log(`controller peak RSS with ${N + BACKLOG} Runs in the cluster: ${peak.toFixed(0)} MiB (target < 200 MiB)`);
} finally {
  await stopCluster(dir);
  await rm(dir, { recursive: true, force: true });
}
