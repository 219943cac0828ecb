/**
 * `npm run bench:controller`: the controller against the local control plane.
 *
 * 1. N runs (default 500, BENCH_RUNS) in a team with room for all of them: the time until every
 *    one has succeeded, and the create-to-Job latency per run (p50, p99).
 * 2. Baseline, in the same cluster, once it has settled: a plain client creates the same N Jobs
 *    directly. Printed as the ratio of controller throughput to baseline throughput.
 * 3. A backlog (default 4,500 more, BENCH_BACKLOG) queued behind a small quota, so that 5,000
 *    Runs sit in the cluster; the controller's peak RSS (VmHWM) is read from /proc throughout.
 * Targets: ratio >= 0.8, p99 < 2 s at N=500, peak RSS < 200 MiB with 5,000 Runs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer, type V1Job } from '@kubernetes/client-node';
import { RUN_GROUP, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { desiredJob } from '../../controller/reconcile/desired-children.js';
import { nodeOptions, platformDefaults } from '../../constructs/controller-deployment.js';
import type { PlatformConfigInput } from '../../constructs/config/schema.js';
import { validatePlatformConfig } from '../../constructs/config/validate.js';
import { renderPlatform } from '../../constructs/platform.js';
import { environments } from '../../stacks/environments/index.js';
import { withPooledConnections } from '../../controller/kube-config.js';
import { applyOrThrow, installCrds, readCrds } from '../harness/apply.js';
import { kubeconfigYaml, startCluster, stopCluster } from '../harness/cluster.js';
import { SHARED_CRDS } from '../support/cluster.js';

const N = Number(process.env['BENCH_RUNS'] ?? 500);
const BACKLOG = Number(process.env['BENCH_BACKLOG'] ?? 4500);
const JOB_MS = 1000;
const CONCURRENCY = 16;
const SETTLE_MS = 10_000;

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

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/\d+/)?.[0] ?? 0) / 1024;
}

const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-cluster-'));
let controllerPid: number | undefined;
// An interrupted benchmark still stops the controller and the control plane it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (controllerPid) process.kill(controllerPid, 'SIGKILL');
    void stopCluster(dir).finally(() => process.exit(130));
  });
}
try {
  const state = await startCluster({ dir, jobDurationMs: JOB_MS, nodesPerPool: 4 });
  const admin = new KubeConfig();
  admin.loadFromFile(state.kubeconfig);
  // A plain client, but not a wasteful one: pooled like the controller's, so that neither phase
  // pays a TLS handshake per request.
  withPooledConnections(admin);
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
  await writeFile(kubeconfig, kubeconfigYaml(state.server, state.caFile, 'plinth-controller', token ?? ''), {
    mode: 0o600,
  });
  // The production artifact: the bundle the image runs.
  if (spawnSync('npm', ['run', '-s', 'build:controller'], { stdio: 'inherit' }).status !== 0) {
    throw new Error('bundling the controller failed');
  }
  const controller = spawn(
    process.execPath,
    ['build/controller.mjs', '--identity=bench', '--metrics-port=0', '--health-port=0'],
    {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        LOG_LEVEL: 'warn',
        // As its Deployment runs it: the heap bounded by the container's memory limit.
        NODE_OPTIONS: nodeOptions(config.controller.resources.limits.memory),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const pid = controller.pid ?? 0;
  controllerPid = pid;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, peakRssMiB(pid))), 500);
  await new Promise((r) => setTimeout(r, 3000));

  // Informers (list, then watch, re-established if dropped) rather than polling lists, which would
  // load the API server in a way the baseline does not.
  const phases = new Map<string, string>();
  const runInformer = makeInformer<Run>(
    admin,
    `/apis/${RUN_GROUP}/${RUN_VERSION}/${RUN_PLURAL}`,
    () => runsApi.listClusterCustomObject({ group: RUN_GROUP, version: RUN_VERSION, plural: RUN_PLURAL }) as never,
  );
  // A phase the controller reported: the CRD's default (`created`, before any report) has no reason.
  const trackRun = (run: Run) =>
    phases.set(`${run.metadata.namespace}/${run.metadata.name}`, run.status?.reason ? (run.status.phase ?? '') : '');
  runInformer.on('add', trackRun);
  runInformer.on('update', trackRun);
  const countPhase = (namespace: string, match: (phase: string) => boolean) =>
    [...phases].filter(([key, phase]) => key.startsWith(`${namespace}/`) && match(phase)).length;
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((r) => setTimeout(r, 100));
  };

  // The moment each Job appears ends its run's create-to-Job latency.
  const jobSeen = new Map<string, number>();
  const jobDone = new Map<string, number>();
  const jobInformer = makeInformer<V1Job>(admin, '/apis/batch/v1/jobs', () => batch.listJobForAllNamespaces());
  const trackJob = (job: V1Job) => {
    const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
    if (!jobSeen.has(key)) jobSeen.set(key, performance.now());
    if (!jobDone.has(key) && job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) {
      jobDone.set(key, performance.now());
    }
  };
  jobInformer.on('add', trackJob);
  jobInformer.on('update', trackJob);
  for (const informer of [runInformer, jobInformer] as {
    on(e: 'error', cb: () => void): void;
    start(): Promise<void>;
  }[]) {
    informer.on('error', () => setTimeout(() => void (tracking && informer.start()), 500));
  }
  let tracking = true;
  await Promise.all([runInformer.start(), jobInformer.start()]);

  /** API server request counts by verb and resource, from its own metrics. */
  const requestCounts = (): Map<string, number> => {
    const kubectl = join(state.binDirs[0] ?? '', 'kubectl');
    const text = execFileSync(kubectl, ['--kubeconfig', state.kubeconfig, 'get', '--raw', '/metrics'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const counts = new Map<string, number>();
    for (const m of text.matchAll(/^apiserver_request_total\{(.*)\} (\d+)$/gm)) {
      const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      if (labels['verb'] === 'WATCH') continue;
      const key = `${labels['verb']} ${labels['resource']}${labels['subresource'] ? `/${labels['subresource']}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
    }
    return counts;
  };
  const requestDelta = (before: Map<string, number>, after: Map<string, number>) =>
    [...after]
      .map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
      .filter(([, v]) => v >= 100)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');

  const cpuOf = () =>
    Object.fromEntries([
      ...state.processes.map((p) => [p.name, cpuSeconds(p.pid)] as const),
      ['controller', cpuSeconds(pid)] as const,
      // The benchmark's own client and watches share the machine too.
      ['benchmark', cpuSeconds(process.pid)] as const,
    ]);
  const cpuUsed = (before: Record<string, number>) =>
    Object.entries(cpuOf())
      .map(([name, after]) => `${name} ${(after - (before[name] ?? 0)).toFixed(1)}s`)
      .join(', ');

  const submit = (namespace: string, name: string) =>
    runsApi.createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace,
      body: {
        apiVersion: `${RUN_GROUP}/${RUN_VERSION}`,
        kind: 'Run',
        metadata: { name },
        spec: { kind: 'job', pool: 'cpu', container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } },
      },
    });

  // 1. Through the controller.
  const cpuBefore = cpuOf();
  const requestsBefore = requestCounts();
  const names = Array.from({ length: N }, (_, i) => `run-${i}`);
  const created = new Map<string, number>();
  log(`creating ${N} runs`);
  const t0 = performance.now();
  await inParallel(names, CONCURRENCY, async (name) => {
    await submit('plinth-bench', name);
    created.set(name, performance.now());
  });
  await until(() => {
    if (countPhase('plinth-bench', (p) => p === 'failed') > 0) throw new Error('a benchmark run failed');
    return countPhase('plinth-bench', (p) => p === 'succeeded') === N;
  });
  const controllerSeconds = (performance.now() - t0) / 1000;
  const controllerCpu = cpuUsed(cpuBefore);
  const requestsMid = requestCounts();
  const latencies = names.map((n) => (jobSeen.get(`plinth-bench/${n}`) ?? NaN) - (created.get(n) ?? NaN));
  log(`controller: ${N} runs succeeded in ${controllerSeconds.toFixed(1)} s`);
  // Whatever work trails the first phase (events, the garbage collector's owner checks) must not
  // fall into the baseline: it would slow the baseline and flatter the ratio.
  log(`letting the control plane settle for ${SETTLE_MS / 1000} s`);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const requestsSettled = requestCounts();
  const cpuBaseline = cpuOf();

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
    // A plain Job: no owner, and no plinth.dev/run label for the controller to pick up.
    delete job.metadata?.ownerReferences;
    delete job.metadata?.labels?.['plinth.dev/run'];
    delete job.spec?.template.metadata?.labels?.['plinth.dev/run'];
    await batch.createNamespacedJob({ namespace: 'plinth-backlog', body: job });
  });
  while (names.some((n) => !jobDone.has(`plinth-backlog/${n}`))) await new Promise((r) => setTimeout(r, 250));
  const baselineSeconds = (performance.now() - t1) / 1000;
  const baselineCpu = cpuUsed(cpuBaseline);
  const requestsAfter = requestCounts();
  log(`baseline: ${N} Jobs completed in ${baselineSeconds.toFixed(1)} s`);
  await batch.deleteCollectionNamespacedJob({ namespace: 'plinth-backlog', propagationPolicy: 'Background' });

  // 3. A backlog, so that N + BACKLOG runs sit in the cluster.
  log(`creating a backlog of ${BACKLOG} runs behind a quota of 5 concurrent runs`);
  const backlog = Array.from({ length: BACKLOG }, (_, i) => `queued-${i}`);
  await inParallel(backlog, CONCURRENCY, async (name) => {
    await submit('plinth-backlog', name);
  });
  await until(() => countPhase('plinth-backlog', (p) => p !== '') === BACKLOG);
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(sampler);
  peak = Math.max(peak, peakRssMiB(pid));
  tracking = false;
  await Promise.all([runInformer.stop(), jobInformer.stop()]);
  controller.kill('SIGTERM');

  const ratio = baselineSeconds / controllerSeconds;
  console.log(`\nruns: ${N}, job duration ${JOB_MS} ms, ${CONCURRENCY} concurrent creates`);
  console.log(
    `controller: all ${N} succeeded in ${controllerSeconds.toFixed(1)} s (${(N / controllerSeconds).toFixed(1)} runs/s)`,
  );
  console.log(
    `baseline:   all ${N} Jobs completed in ${baselineSeconds.toFixed(1)} s (${(N / baselineSeconds).toFixed(1)} jobs/s)`,
  );
  console.log(`CPU during the controller phase: ${controllerCpu}`);
  console.log(`CPU during the baseline phase:   ${baselineCpu}`);
  console.log(`API requests in the controller phase: ${requestDelta(requestsBefore, requestsMid)}`);
  console.log(`API requests in the baseline phase:   ${requestDelta(requestsSettled, requestsAfter)}`);
  console.log(`throughput ratio controller/baseline: ${ratio.toFixed(2)} (target >= 0.8)`);
  console.log(
    `create-to-Job latency: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms (target p99 < 2000 ms)`,
  );
  console.log(`controller peak RSS with ${N + BACKLOG} Runs in the cluster: ${peak.toFixed(0)} MiB (target < 200 MiB)`);
} finally {
  await stopCluster(dir);
  await rm(dir, { recursive: true, force: true });
}
