/**
 * `npm run bench:controller-memory [runs per team]`: the controller's memory with the largest Runs
 * a team may store, against its own local control plane.
 *
 * For each team of the `local` environment it stores RUNS largest Runs (argument or
 * BENCH_RUNS_PER_TEAM, default 200) of kind job, built by walking the Run schema
 * (test/support/largest-run.ts) and fitted to what the API server takes: half of them stopped, the
 * other half waiting in the team's queue behind small runs that hold its concurrent-run quota.
 * Then it starts the controller as its Deployment runs it (the bundle, with the heap its memory
 * limit gives), waits until it has listed and reconciled every run (the stopped ones written as
 * stopped, the others as queued), and restarts it, as a crash or a new leader would, on the full
 * store. For each start it prints the peak RSS, the peak V8 heap used, and the heap limit the
 * Deployment sets, with whether the heap stayed under it; a controller that dies fails it.
 * BENCH_CONTROLLER_BUNDLE measures another bundle (an earlier version's, say) instead of this one's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { CONTROLLER_METRICS, RUN_CONTROLLER_NAME } from '../../controller/api/metrics.js';
import {
  RUN_API_VERSION,
  RUN_GROUP,
  RUN_KIND,
  RUN_PLURAL,
  RUN_VERSION,
  type RunSpec,
} from '../../controller/api/run.js';
import { withPooledConnections } from '../../controller/runtime/kube-config.js';
import { nodeHeapLimitMiB, nodeOptions, platformDefaults } from '../../constructs/controller-deployment.js';
import { renderPlatform } from '../../constructs/platform.js';
import { kubeconfigYaml, startCluster, stopCluster } from '../../local-cluster/control-plane.js';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { applyPlatform } from '../../local-cluster/apply-platform.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { environments } from '../../stacks/environments/index.js';
import { UNBOUNDED, fitLargestRun, type FittedRun } from '../support/largest-run.js';
import { inParallel, memoryMiB } from '../support/process-figures.js';

const PER_TEAM = Number(process.argv[2] ?? process.env['BENCH_RUNS_PER_TEAM'] ?? 200);
if (!Number.isInteger(PER_TEAM) || PER_TEAM < 2) {
  throw new Error(`runs per team (argument or BENCH_RUNS_PER_TEAM) must be a whole number of at least 2`);
}
const STOPPED = Math.floor(PER_TEAM / 2);
/** The controller measured: the bundle its image runs, built from this checkout unless another is given. */
const BUNDLE = process.env['BENCH_CONTROLLER_BUNDLE'] ?? 'build/controller.mjs';
const CONCURRENCY = 4;
/** Long enough that the runs holding each team's quota run through the whole benchmark. */
const HOLD = { [DURATION_ANNOTATION]: '2h' };
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const MiB = 1024 * 1024;

const log = (line: string) => console.error(`[bench] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The samples of a metric of the controller's, with their labels. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`, 'gm'))].map((m) => ({
    labels: Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])),
    value: Number(m[2]),
  }));
}

const config = validatePlatformConfig('local', environments['local']);
const defaults = platformDefaults(config);
const teams = Object.entries(defaults.teams);
const memoryLimit = config.controller.resources.limits.memory;
const heapLimitMiB = nodeHeapLimitMiB(memoryLimit);

const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-memory-'));
const LOGS = join('build', 'bench-memory');
let controllerPid: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (controllerPid) process.kill(controllerPid, 'SIGKILL');
    void stopCluster(dir).finally(() => process.exit(130));
  });
}

interface StartFigures {
  readonly what: string;
  readonly seconds: number;
  readonly peakRssMiB: number;
  readonly peakHeapMiB: number;
  readonly settledHeapMiB: number;
  readonly exited?: string;
}

try {
  const state = await startCluster({ dir, jobDurationMs: 1000 });
  const admin = withPooledConnections(new KubeConfig());
  admin.loadFromFile(state.kubeconfig);
  await applyPlatform(
    admin,
    renderPlatform(config).flatMap((c) => c.objects as never[]),
  );
  const runsApi = admin.makeApiClient(CustomObjectsApi);
  const create = (namespace: string, name: string, spec: RunSpec) =>
    runsApi.createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace,
      body: { apiVersion: RUN_API_VERSION, kind: RUN_KIND, metadata: { name }, spec },
    });

  // The largest run of each team, and the runs: first those that hold the team's quota, so that
  // the large ones queue behind them (the queue is first in, first out, by creation then name).
  const fitted = new Map<string, FittedRun>();
  let specCharacters = 0;
  for (const [namespace, team] of teams) {
    const largest = await fitLargestRun(admin, namespace, {
      pool: team.defaultPool ?? team.pools[0] ?? '',
      connections: team.connections,
      annotations: HOLD,
    });
    fitted.set(namespace, largest);
    const holders = Array.from({ length: team.maxConcurrentRuns }, (_, i) => `a-hold-${i}`);
    const small: RunSpec = {
      kind: 'job',
      pool: 'cpu',
      environment: { annotations: HOLD },
      job: { container: { image } },
    };
    await inParallel(holders, CONCURRENCY, (name) => create(namespace, name, small).then(() => undefined));
    log(`${namespace}: ${holders.length} small runs hold the team's ${team.maxConcurrentRuns} concurrent runs`);
    const large = Array.from({ length: PER_TEAM }, (_, i) => i);
    const started = performance.now();
    await inParallel(large, CONCURRENCY, async (i) => {
      await create(namespace, `large-${String(i).padStart(5, '0')}`, { ...largest.spec, stopped: i < STOPPED });
    });
    specCharacters += PER_TEAM * JSON.stringify(largest.spec).length;
    log(
      `${namespace}: stored ${PER_TEAM} runs of ${largest.size} characters in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  }

  // The controller as its ServiceAccount, from the bundle its image runs.
  const core = admin.makeApiClient(CoreV1Api);
  const token = (
    await core.createNamespacedServiceAccountToken({
      name: CONTROLLER_NAME,
      namespace: config.namespace,
      body: { spec: { expirationSeconds: 7200 } },
    })
  ).status?.token;
  const kubeconfig = join(dir, 'controller.kubeconfig');
  await writeFile(kubeconfig, kubeconfigYaml(state.server, state.caFile, CONTROLLER_NAME, token ?? ''), {
    mode: 0o600,
  });
  if (
    !process.env['BENCH_CONTROLLER_BUNDLE'] &&
    spawnSync('npm', ['run', '-s', 'build:controller'], { stdio: 'inherit' }).status !== 0
  ) {
    throw new Error('bundling the controller failed');
  }
  mkdirSync(LOGS, { recursive: true });

  const totalRuns = teams.reduce((sum, [, team]) => sum + team.maxConcurrentRuns + PER_TEAM, 0);
  /** Starts the controller, waits until `done` says it has reconciled every run, and stops it. */
  const measure = async (what: string, done: (metrics: string) => boolean): Promise<StartFigures> => {
    const metricsPort = await freePort();
    const logFile = join(LOGS, `controller-${what.replace(/\W+/g, '-')}.log`);
    const controller = spawn(
      process.execPath,
      [
        BUNDLE,
        `--identity=${what}`,
        `--metrics-port=${metricsPort}`,
        '--health-port=0',
        // The simulated platform's tracking server never runs, and the API server forwards nothing to
        // the logs API of a controller measured for runs alone. A bundle from before either knows no such flag.
        ...(process.env['BENCH_CONTROLLER_BUNDLE'] ? [] : ['--no-tracking', '--no-logs-api']),
      ],
      {
        env: {
          ...process.env,
          KUBECONFIG: kubeconfig,
          LOG_LEVEL: 'warn',
          NODE_OPTIONS: nodeOptions(memoryLimit),
        },
        stdio: ['ignore', openSync(logFile, 'w'), 'inherit'],
      },
    );
    const pid = controller.pid ?? 0;
    controllerPid = pid;
    let exited: string | undefined;
    controller.on('exit', (code, signal) => (exited = `code ${code}, signal ${signal}`));
    const t0 = performance.now();
    let peakRss = 0;
    let peakHeap = 0;
    let heap = 0;
    let metrics = '';
    const scrape = async () => {
      try {
        metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        heap = (samples(metrics, 'nodejs_heap_size_used_bytes')[0]?.value ?? 0) / MiB;
        peakHeap = Math.max(peakHeap, heap);
      } catch {
        // not listening yet
      }
    };
    // RSS four times a second; the heap once a second, as a scrape costs the controller a little.
    let ticks = 0;
    const sampler = setInterval(() => {
      if (!exited) peakRss = Math.max(peakRss, memoryMiB(pid, 'VmRSS'));
      if (ticks++ % 4 === 0) void scrape();
    }, 250);
    while (!exited && !done(metrics)) await sleep(500);
    const seconds = (performance.now() - t0) / 1000;
    // Settled: what it holds once the work is done.
    await sleep(5000);
    await scrape();
    clearInterval(sampler);
    if (!exited) peakRss = Math.max(peakRss, memoryMiB(pid, 'VmHWM'));
    const figures = { what, seconds, peakRssMiB: peakRss, peakHeapMiB: peakHeap, settledHeapMiB: heap, exited };
    const stopped = new Promise((resolve) => (exited ? resolve(undefined) : controller.once('exit', resolve)));
    controller.kill('SIGTERM');
    await Promise.race([stopped, sleep(30_000)]);
    if (!exited) controller.kill('SIGKILL');
    log(`${what}: ${JSON.stringify(figures)}`);
    return figures;
  };

  const queueEmpty = (metrics: string) =>
    samples(metrics, CONTROLLER_METRICS.queueDepth).some(
      (s) => s.labels['name'] === RUN_CONTROLLER_NAME && s.value === 0,
    );
  // First start: every large run is written as stopped or queued, as the controller's own count says.
  const everyRunWritten = (metrics: string) => {
    const byPhase = samples(metrics, CONTROLLER_METRICS.runsByPhase);
    const count = (namespace: string, phase: string) =>
      byPhase.find((s) => s.labels['namespace'] === namespace && s.labels['phase'] === phase)?.value ?? 0;
    return (
      teams.every(([ns]) => count(ns, 'stopped') === STOPPED && count(ns, 'queued') === PER_TEAM - STOPPED) &&
      queueEmpty(metrics)
    );
  };
  // A restart: every run reconciled once since it listed them, and nothing left to do.
  const everyRunReconciled = (metrics: string) =>
    samples(metrics, CONTROLLER_METRICS.reconcileTotal)
      .filter((s) => s.labels['controller'] === RUN_CONTROLLER_NAME)
      .reduce((sum, s) => sum + s.value, 0) >= totalRuns && queueEmpty(metrics);

  const starts = [
    await measure('first start', everyRunWritten),
    await measure('restart on the full store', everyRunReconciled),
  ];

  const largest = [...fitted.values()][0];
  console.log(
    `\nruns: ${PER_TEAM} largest runs per team (${STOPPED} stopped, ${PER_TEAM - STOPPED} queued) in ` +
      `${teams.length} teams (${teams.map(([ns]) => ns).join(', ')}), behind ` +
      `${teams.map(([, t]) => t.maxConcurrentRuns).join(' and ')} small runs holding their quotas: ${totalRuns} Runs`,
  );
  if (largest) {
    console.log(
      `largest run: ${largest.size} characters of JSON; bounds filled at ${largest.scale}, ` +
        `unbounded fields at ${largest.unboundedScale} of ${UNBOUNDED.length} characters or ${UNBOUNDED.items} items; ` +
        `specs stored: ${(specCharacters / MiB).toFixed(0)} MiB of JSON`,
    );
    if (largest.unbounded.length) console.log(`unbounded by the schema: ${largest.unbounded.join(', ')}`);
    for (const why of largest.scaledDown) console.log(`scaled down: ${why}`);
    for (const why of largest.dropped) console.log(`left out, refused by the API server: ${why}`);
  }
  console.log(`heap limit the Deployment sets: ${heapLimitMiB} MiB (memory limit ${memoryLimit})`);
  let failed = false;
  for (const s of starts) {
    const met = !s.exited && s.peakHeapMiB < heapLimitMiB;
    failed ||= !met;
    console.log(
      `${s.what}: reconciled in ${s.seconds.toFixed(0)} s; peak RSS ${s.peakRssMiB.toFixed(0)} MiB, ` +
        `peak heap used ${s.peakHeapMiB.toFixed(0)} MiB, settled heap used ${s.settledHeapMiB.toFixed(0)} MiB; ` +
        `under the heap limit: ${met ? 'met' : 'NOT met'}${s.exited ? ` (the controller exited: ${s.exited})` : ''}`,
    );
  }
  if (failed) {
    const tail = (await readFile(join(LOGS, 'controller-first-start.log'), 'utf8').catch(() => '')).slice(-2000);
    if (tail) log(`controller log (first start, tail):\n${tail}`);
    process.exitCode = 1;
  }
} finally {
  await cp(join(dir, 'logs'), LOGS, { recursive: true }).catch(() => undefined);
  await stopCluster(dir);
}
