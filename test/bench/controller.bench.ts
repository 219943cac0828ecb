/**
 * `npm run bench:controller`: the controller against the local control plane.
 *
 * A warm-up, unmeasured, first sends N/5 runs through the controller and N/5 Jobs past it: round 1
 * would otherwise always meet a controller whose code the JIT has not yet compiled, since round 1
 * starts with the controller's phase.
 * Each round (default 5, BENCH_ROUNDS) has two phases, each after the control plane has settled:
 * - through the controller: N runs (default 500, BENCH_RUNS) in a team with room for all of them,
 *   timed until every one has succeeded, with the create-to-Job latency of each;
 * - baseline: a plain client creates the same N Jobs directly, timed until every one is complete.
 * The round's ratio is controller throughput over baseline throughput. Rounds alternate which phase
 * goes first, so that neither always meets the fuller cluster, and the median ratio is the result:
 * on a machine whose cores the phases saturate, the same phase can cost a tenth more or less CPU
 * from one round to the next, in every process at once.
 * Then a backlog queued behind a small quota brings the cluster to 5,000 Runs (BENCH_BACKLOG), and
 * the controller's peak RSS (VmHWM) is read from /proc throughout.
 * Targets: ratio >= 0.8, p99 < 2 s at N=500, peak RSS < 200 MiB with 5,000 Runs; each is printed
 * with whether it is met.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer, type V1Job } from '@kubernetes/client-node';
import { RUN_API_VERSION, RUN_GROUP, RUN_PLURAL, RUN_VERSION, runsPath, type Run } from '../../controller/api/run.js';
import { jobKind } from '../../controller/runs/kinds/job.js';
import { nodeOptions, platformDefaults } from '../../constructs/controller-deployment.js';
import type { PlatformConfigInput } from '../../model/config/schema.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { renderPlatform } from '../../constructs/platform.js';
import { environments } from '../../stacks/environments/index.js';
import { withPooledConnections } from '../../controller/runtime/kube-config.js';
import { applyPlatform } from '../../local-cluster/apply-platform.js';
import { kubeconfigYaml, startCluster, stopCluster } from '../../local-cluster/control-plane.js';
import { cpuSeconds, inParallel, memoryMiB, percentile } from '../support/process-figures.js';

const N = Number(process.env['BENCH_RUNS'] ?? 500);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const WARM_UP = Math.ceil(N / 5);
// The runs of the warm-up and of every round stay in the cluster; the backlog tops them up to 5,000.
const BACKLOG = Number(process.env['BENCH_BACKLOG'] ?? Math.max(0, 5000 - WARM_UP - ROUNDS * N));
for (const [name, value, least] of [
  ['BENCH_RUNS', N, 1],
  ['BENCH_ROUNDS', ROUNDS, 1],
  ['BENCH_BACKLOG', BACKLOG, 0],
] as const) {
  if (!Number.isInteger(value) || value < least) throw new Error(`${name} must be a whole number of at least ${least}`);
}
const JOB_MS = 1000;
const TARGET = { ratio: 0.8, p99Ms: 2000, rssMiB: 200 };
const CONCURRENCY = 16;
const SETTLE_MS = 10_000;

const log = (line: string) => console.error(`[bench] ${line}`);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

/** The local platform, plus a team with room for the whole benchmark and one with a small quota for the backlog. */
function benchConfig() {
  const input = structuredClone(environments['local']) as PlatformConfigInput;
  // Counts with room for every run and pod of the benchmark: its own load is what it measures.
  const quota = { cpu: '1000', memory: '4Ti', gpu: 0, pods: 10_000, runs: 10_000 };
  input.teams = [
    ...(input.teams ?? []),
    { name: 'bench', members: [], quota: { ...quota, maxConcurrentRuns: N } },
    { name: 'backlog', members: [], quota: { ...quota, maxConcurrentRuns: 5 } },
  ];
  return validatePlatformConfig('local', input);
}

const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-cluster-'));
/** The controller's JSON log, and the control plane's logs, kept after the run: the state directory is removed. */
const LOGS = join('build', 'bench');
const CONTROLLER_LOG = join(LOGS, 'controller.log');
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
  await applyPlatform(
    admin,
    renderPlatform(config).flatMap((c) => c.objects as never[]),
  );
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
  mkdirSync(LOGS, { recursive: true });
  const logFile = openSync(CONTROLLER_LOG, 'w');
  const controller = spawn(
    process.execPath,
    // The simulated platform's tracking server never runs.
    [
      'build/controller.mjs',
      '--identity=bench',
      '--metrics-port=0',
      '--health-port=0',
      '--no-tracking',
      '--no-logs-api',
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        LOG_LEVEL: 'warn',
        // As its Deployment runs it: the heap bounded by the container's memory limit.
        NODE_OPTIONS: nodeOptions(config.controller.resources.limits.memory),
      },
      stdio: ['ignore', logFile, 'inherit'],
    },
  );
  const pid = controller.pid ?? 0;
  controllerPid = pid;
  // A controller that exits on its own (a lost lease, a fatal error) ends the benchmark with why.
  let exited: string | undefined;
  let stopping = false;
  controller.on('exit', (code, signal) => (exited = `code ${code}, signal ${signal}`));
  const running = () => {
    if (exited && !stopping) throw new Error(`the controller exited (${exited}); its log is in ${CONTROLLER_LOG}`);
  };
  let peak = 0;
  const sampler = setInterval(() => (peak = exited ? peak : Math.max(peak, memoryMiB(pid, 'VmHWM'))), 500);
  await new Promise((r) => setTimeout(r, 3000));

  // Informers (list, then watch, re-established if dropped) rather than polling lists, which would
  // load the API server in a way the baseline does not.
  const phases = new Map<string, string>();
  const runInformer = makeInformer<Run>(
    admin,
    runsPath(),
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
    while (!done()) {
      running();
      await new Promise((r) => setTimeout(r, 100));
    }
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
  const cpuOf = () => {
    running();
    return Object.fromEntries([
      ...state.processes.map((p) => [p.name, cpuSeconds(p.pid)] as const),
      ['controller', cpuSeconds(pid)] as const,
      // The benchmark's own client and watches share the machine too.
      ['benchmark', cpuSeconds(process.pid)] as const,
    ]);
  };

  const submit = (namespace: string, name: string) =>
    runsApi.createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace,
      body: {
        apiVersion: RUN_API_VERSION,
        kind: 'Run',
        metadata: { name },
        spec: { kind: 'job', pool: 'cpu', job: { container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } } },
      },
    });

  interface PhaseResult {
    seconds: number;
    cpu: Record<string, number>;
    requests: Map<string, number>;
    latencies: number[];
  }
  /** Runs one phase after the control plane has settled, with its wall time, CPU and API requests. */
  const phase = async (what: string, work: () => Promise<number[]>): Promise<PhaseResult> => {
    // Whatever work trails the previous phase (events, the garbage collector's owner checks) must
    // not fall into this one.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const cpuBefore = cpuOf();
    const requestsBefore = requestCounts();
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    const latencies = await work();
    const seconds = (performance.now() - t0) / 1000;
    const cpuAfter = cpuOf();
    const requests = requestCounts();
    for (const [k, v] of requestsBefore) requests.set(k, (requests.get(k) ?? 0) - v);
    const cpu = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, v - (cpuBefore[k] ?? 0)]));
    // Status writes follow the cluster's pace: a run that stays running for PROMPT_MS is written twice.
    const statusWrites = requests.get('PATCH runs/status') ?? 0;
    log(
      `${what}: ${N} done in ${seconds.toFixed(1)} s from ${startedAt}; CPU s: ` +
        Object.entries(cpu)
          .map(([name, s]) => `${name} ${s.toFixed(1)}`)
          .join(', ') +
        (statusWrites ? `; run status writes: ${statusWrites}` : ''),
    );
    return { seconds, cpu, requests, latencies };
  };

  /** `count` runs (N unless told) through the controller, until every one has succeeded; returns create-to-Job latencies. */
  const throughController = async (round: number, count = N) => {
    const names = Array.from({ length: count }, (_, i) => `r${round}-run-${i}`);
    const created = new Map<string, number>();
    await inParallel(names, CONCURRENCY, async (name) => {
      await submit('plinth-bench', name);
      created.set(name, performance.now());
    });
    const succeeded = () => names.filter((n) => phases.get(`plinth-bench/${n}`) === 'succeeded').length;
    const failed = () => names.some((n) => phases.get(`plinth-bench/${n}`) === 'failed');
    await until(() => {
      if (failed()) throw new Error('a benchmark run failed');
      return succeeded() === count;
    });
    return names.map((n) => (jobSeen.get(`plinth-bench/${n}`) ?? NaN) - (created.get(n) ?? NaN));
  };

  /** The same `count` Jobs, created directly by a plain client, until every one is complete. */
  const defaults = platformDefaults(config);
  const backlogTeam = defaults.teams['plinth-backlog'];
  if (!backlogTeam) throw new Error('the benchmark platform has no backlog team');
  const baseline = async (round: number, count = N) => {
    const names = Array.from({ length: count }, (_, i) => `r${round}-job-${i}`);
    await inParallel(names, CONCURRENCY, async (name) => {
      const [job] = jobKind.desired(
        {
          apiVersion: 'plinth.dev/v1alpha1',
          kind: 'Run',
          metadata: { name, namespace: 'plinth-backlog', uid: 'baseline' },
          spec: { kind: 'job', pool: 'cpu', job: { container: { image: 'ghcr.io/plinth-dev/train:1.0.0' } } },
        },
        { defaults, team: backlogTeam, pool: 'cpu' },
      ) as [V1Job];
      // A plain Job: no owner, and no plinth.dev/run label for the controller to pick up.
      delete job.metadata?.ownerReferences;
      delete job.metadata?.labels?.['plinth.dev/run'];
      delete job.spec?.template.metadata?.labels?.['plinth.dev/run'];
      await batch.createNamespacedJob({ namespace: 'plinth-backlog', body: job });
    });
    await until(() => names.every((n) => jobDone.has(`plinth-backlog/${n}`)));
    return [];
  };

  log(`warming up: ${WARM_UP} runs through the controller, ${WARM_UP} Jobs past it`);
  await throughController(0, WARM_UP);
  await baseline(0, WARM_UP);

  const rounds: { controller: PhaseResult; baseline: PhaseResult; ratio: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round} of ${ROUNDS}`);
    let controllerPhase: PhaseResult;
    let baselinePhase: PhaseResult;
    if (round % 2 === 1) {
      controllerPhase = await phase('controller', () => throughController(round));
      baselinePhase = await phase('baseline', () => baseline(round));
    } else {
      baselinePhase = await phase('baseline', () => baseline(round));
      controllerPhase = await phase('controller', () => throughController(round));
    }
    const ratio = baselinePhase.seconds / controllerPhase.seconds;
    rounds.push({ controller: controllerPhase, baseline: baselinePhase, ratio });
  }
  await batch.deleteCollectionNamespacedJob({ namespace: 'plinth-backlog', propagationPolicy: 'Background' });

  // A backlog, so that the cluster holds BACKLOG more runs, queued.
  log(`creating a backlog of ${BACKLOG} runs behind a quota of 5 concurrent runs`);
  const backlog = Array.from({ length: BACKLOG }, (_, i) => `queued-${i}`);
  await inParallel(backlog, CONCURRENCY, async (name) => {
    await submit('plinth-backlog', name);
  });
  await until(() => countPhase('plinth-backlog', (p) => p !== '') === BACKLOG);
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(sampler);
  running();
  peak = Math.max(peak, memoryMiB(pid, 'VmHWM'));
  stopping = true;
  tracking = false;
  await Promise.all([runInformer.stop(), jobInformer.stop()]);
  // A graceful stop gives up the lease, which needs the API server: the cluster stops after it.
  const stopped = new Promise((resolve) => (exited ? resolve(undefined) : controller.once('exit', resolve)));
  controller.kill('SIGTERM');
  await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  if (!exited) {
    log('the controller did not stop within 30 s of SIGTERM; killing it');
    controller.kill('SIGKILL');
  }

  /** Per-round means of CPU seconds and API requests of one kind of phase. */
  const perRound = (pick: (r: (typeof rounds)[number]) => PhaseResult) => {
    const cpu = new Map<string, number>();
    const requests = new Map<string, number>();
    for (const r of rounds.map(pick)) {
      for (const [k, v] of Object.entries(r.cpu)) cpu.set(k, (cpu.get(k) ?? 0) + v / ROUNDS);
      for (const [k, v] of r.requests) requests.set(k, (requests.get(k) ?? 0) + v / ROUNDS);
    }
    return {
      cpu: [...cpu].map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', '),
      requests: [...requests]
        .filter(([, v]) => v >= 100)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', '),
    };
  };
  const ratios = rounds.map((r) => r.ratio);
  const latencies = rounds.flatMap((r) => r.controller.latencies);
  const controllerMeans = perRound((r) => r.controller);
  const baselineMeans = perRound((r) => r.baseline);
  console.log(`\nruns: ${N} per phase, job duration ${JOB_MS} ms, ${CONCURRENCY} concurrent creates, ${ROUNDS} rounds`);
  rounds.forEach((r, i) =>
    console.log(
      `round ${i + 1}: controller ${r.controller.seconds.toFixed(1)} s (${(N / r.controller.seconds).toFixed(1)} runs/s), ` +
        `baseline ${r.baseline.seconds.toFixed(1)} s (${(N / r.baseline.seconds).toFixed(1)} jobs/s), ratio ${r.ratio.toFixed(2)}`,
    ),
  );
  console.log(`CPU per controller phase (mean): ${controllerMeans.cpu}`);
  console.log(`CPU per baseline phase (mean):   ${baselineMeans.cpu}`);
  console.log(`API requests per controller phase (mean): ${controllerMeans.requests}`);
  console.log(`API requests per baseline phase (mean):   ${baselineMeans.requests}`);
  // Judged on the unrounded figures, which the printed ones round: 0.796 would read as 0.80.
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const ratio = median(ratios);
  const p99 = percentile(latencies, 99);
  console.log(
    `throughput ratio controller/baseline: median ${ratio.toFixed(3)} of ${ROUNDS} rounds ` +
      `(min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}); ` +
      `target >= ${TARGET.ratio}: ${verdict(ratio >= TARGET.ratio)}`,
  );
  console.log(
    `create-to-Job latency over ${latencies.length} runs: p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
      `p99 ${p99.toFixed(0)} ms; target p99 < ${TARGET.p99Ms} ms: ${verdict(p99 < TARGET.p99Ms)}`,
  );
  console.log(
    `controller peak RSS with ${WARM_UP + ROUNDS * N + BACKLOG} Runs in the cluster: ${peak.toFixed(0)} MiB; ` +
      `target < ${TARGET.rssMiB} MiB: ${verdict(peak < TARGET.rssMiB)}`,
  );
} finally {
  // A slow phase is explained by what the control plane logged then (kwok's stages, say); the
  // cluster's state directory, logs included, goes with it.
  await cp(join(dir, 'logs'), LOGS, { recursive: true }).catch(() => undefined);
  await stopCluster(dir);
}
