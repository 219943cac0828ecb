import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_CPU_POOL } from '../../local-cluster/real-nodes.js';
import { AppsV1Api, BatchV1Api, HttpMethod, type V1Job } from '@kubernetes/client-node';
import { CONTROLLER_METRICS, LOG_ARCHIVER_NAME, RUN_CONTROLLER_NAME } from '../../controller/api/metrics.js';
import { LogArchiver } from '../../controller/logs/log-archiver.js';
import { s3LogStore } from '../../controller/logs/log-store.js';
import { RUN_API_VERSION, RUN_KIND, type RunSpec } from '../../controller/api/run.js';
import { createMetrics } from '../../controller/metrics.js';
import { EventRecorder } from '../../controller/runtime/event-recorder.js';
import { requestApi } from '../../controller/runtime/kube-config.js';
import { createLogger } from '../../controller/runtime/log.js';
import { Manager } from '../../controller/runtime/manager.js';
import type { SharedCache } from '../../controller/runtime/shared-informer.js';
import { CACHED, RUN_CACHE, WHOLE_SPEC_LIMIT, type CachedRun } from '../../controller/runs/cached-run.js';
import { loadPlatformDefaults } from '../../controller/runs/platform-defaults-loader.js';
import { RunController } from '../../controller/runs/run-controller.js';
import { REPORTING_CONTROLLER } from '../../controller/runs/run-events.js';
import { DURATION_ANNOTATION } from '../../local-cluster/kwok-stages.js';
import { CONTROLLER_NAME } from '../../model/names.js';
import { GPU_RESOURCE } from '../../model/pools.js';
import { serviceAccountConfig } from '../support/access.js';
import { eventually, kubeConfigAs } from '../support/cluster-clients.js';
import { fitLargestRun } from '../support/largest-run.js';
import { createRun, deleteRuns, inPhase, patchRun, waitForRun } from '../support/runs.js';

/**
 * The Run controller's cache against the API server, with runs as large as the schema allows: it
 * keeps a finished run's classification, an unfinished large run's summary, and a small run whole;
 * and it still builds a large run's workload from the whole run. The controller runs in this
 * process, as its own ServiceAccount, so that the test can read the cache it reconciles from.
 */
const NS = 'plinth-vision';
const image = 'ghcr.io/plinth-dev/train:1.0.0';
const long = { [DURATION_ANNOTATION]: '10m' };
const stopped = Array.from({ length: 8 }, (_, i) => `cache-stopped-${i}`);
/**
 * A small run holding the team's whole GPU quota, and large runs that each ask for all of it. The
 * team's queue is first in, first out: they come last, by creation and by name, so that they keep
 * no other run waiting.
 */
const holder = 'cache-gpu-holder';
const waiting = Array.from({ length: 8 }, (_, i) => `cache-wait-${i}`);
/** Large, and valid as a Job: their Jobs show what they were built from. */
const admitted = Array.from({ length: 4 }, (_, i) => `cache-args-${i}`);
const small = 'cache-small';
/** Services follow their spec: each reconcile compares the hash of what they want. */
const largeService = 'cache-svc-large';
const smallService = 'cache-svc-small';
const all = [holder, ...stopped, ...waiting, ...admitted, small, largeService, smallService];
/** Every unfinished run is reconciled this often: a GET per reconcile would show within seconds. */
const RESYNC_MS = 1000;

/**
 * Args within a container's text budget, each run's its own; given to the main container and an
 * init container, they take the spec past the limit of a whole cached spec.
 */
const argsOf = (name: string) => Array.from({ length: 32 }, (_, i) => `--${name}-${i}=${'x'.repeat(400)}`);

let manager: Manager;
let metrics: ReturnType<typeof createMetrics>;
let ended: Promise<unknown>;
let runs: SharedCache<CachedRun>;

/** GET requests for single runs the API server has served so far, from its own metrics. */
async function getsOfRuns(): Promise<number> {
  const response = await requestApi(kubeConfigAs('admin'), HttpMethod.GET, '/metrics');
  const text = await response.body.text();
  return [...text.matchAll(/^apiserver_request_total\{(.*)\} (\d+)$/gm)]
    .filter(
      (m) =>
        /verb="GET"/.test(m[1] ?? '') && /resource="runs"/.test(m[1] ?? '') && !/subresource="[^"]+"/.test(m[1] ?? ''),
    )
    .reduce((sum, m) => sum + Number(m[2]), 0);
}

async function submit(name: string, spec: RunSpec): Promise<void> {
  const status = await createRun(kubeConfigAs('admin'), NS, {
    apiVersion: RUN_API_VERSION,
    kind: RUN_KIND,
    metadata: { name, labels: { bulk: 'x'.repeat(63) }, annotations: { note: 'y'.repeat(100_000) } },
    spec,
  });
  if (status !== 201) throw new Error(`creating run ${NS}/${name} failed with HTTP ${status}`);
}

describe('the Run cache', () => {
  beforeAll(async () => {
    const admin = kubeConfigAs('admin');
    const largest = await fitLargestRun(admin, NS, { pool: SIMULATED_CPU_POOL, connections: [], annotations: long });
    const allGpus = { limits: { [GPU_RESOURCE]: 16 } };
    const gpuRun: RunSpec = structuredClone(largest.spec);
    gpuRun.pool = 'gpu';
    gpuRun.job!.container.resources = allGpus;
    // First in the queue; no node has 16 GPUs, so it holds them, unschedulable, for the whole test.
    await submit(holder, { kind: 'job', pool: 'gpu', job: { container: { image, resources: allGpus } } });
    for (const name of stopped) await submit(name, { ...largest.spec, stopped: true });
    for (const name of admitted) {
      await submit(name, {
        kind: 'job',
        pool: SIMULATED_CPU_POOL,
        environment: { annotations: long },
        job: { container: { image, args: argsOf(name) }, init: [{ image, args: argsOf(name) }] },
      });
    }
    await submit(small, {
      kind: 'job',
      pool: SIMULATED_CPU_POOL,
      environment: { annotations: long },
      job: { container: { image } },
    });
    for (const [name, args] of [
      [largeService, argsOf(largeService)],
      [smallService, undefined],
    ] as const) {
      await submit(name, {
        kind: 'service',
        pool: SIMULATED_CPU_POOL,
        service: {
          container: { image, ...(args ? { args: [...args] } : {}) },
          ...(args ? { init: [{ image, args: [...args] }] } : {}),
          ports: [{ port: 8080 }],
        },
      });
    }
    for (const name of waiting) await submit(name, gpuRun);

    const kc = await serviceAccountConfig('plinth', CONTROLLER_NAME);
    const log = createLogger('run-cache-test', { level: 'warn' });
    metrics = createMetrics();
    manager = new Manager(kc, { log });
    ended = manager.start(async () => {
      const defaults = await loadPlatformDefaults(kc, 'plinth', CONTROLLER_NAME);
      const events = new EventRecorder(
        kc,
        { reportingController: REPORTING_CONTROLLER, reportingInstance: 'cache' },
        log,
      );
      const controller = new RunController(kc, manager, defaults, log, metrics, events, RESYNC_MS);
      manager.add({
        name: RUN_CONTROLLER_NAME,
        start: async () => {
          await Promise.all(await controller.start(8));
        },
        stop: () => controller.stop(),
      });
      // Run pods carry the logs finalizer, which the archiver takes off: its pods here are on
      // simulated nodes, which serve no logs, so it never reads the store.
      if (defaults.logArchive) {
        const archiver = new LogArchiver(
          kc,
          manager,
          { location: defaults.logArchive, store: s3LogStore(defaults.logArchive), streams: 8 },
          log,
          metrics,
        );
        manager.add({
          name: LOG_ARCHIVER_NAME,
          start: async () => {
            await Promise.all(archiver.start(2));
          },
          stop: () => archiver.stop(),
        });
      }
    });
    // The same key is the same informer: this is the cache the controller reads.
    runs = manager.informer(RUN_CACHE);
  });

  afterAll(async () => {
    // Deleted while the archiver runs, which lets their pods go.
    await deleteRuns(kubeConfigAs('admin'), NS, all);
    await manager?.stop('test done');
    await ended;
  });

  it('settles and queues large runs, and builds large runs from the whole run', async () => {
    for (const name of stopped) await waitForRun(NS, name, inPhase('stopped'));
    await waitForRun(NS, holder, inPhase('unschedulable'));
    // Admission reads the GPUs from what the cache keeps: a summary that lost them would be admitted.
    for (const name of waiting) {
      const run = await waitForRun(NS, name, inPhase('queued'));
      expect(run.status?.reason, name).toBe('WaitingForQuota');
      expect(run.status?.message, name).toContain('16/16 GPUs');
    }

    const batch = kubeConfigAs('admin').makeApiClient(BatchV1Api);
    for (const name of [...admitted, small]) {
      await waitForRun(NS, name, inPhase('running'));
      const job: V1Job = await batch.readNamespacedJob({ name, namespace: NS });
      const args = job.spec?.template.spec?.containers[0]?.args;
      expect(args, name).toEqual(name === small ? undefined : argsOf(name));
    }
  });

  it('holds a finished run as its classification, an unfinished large one as a summary, a small one whole', async () => {
    const cached = (name: string) => runs.get(name, NS) as CachedRun | undefined;
    await eventually('the cache to hear of every final status', async () =>
      stopped.every((n) => cached(n)?.[CACHED] === 'settled') ? true : undefined,
    );
    for (const name of stopped) {
      expect(cached(name)?.spec, name).toEqual({ kind: 'job' });
    }
    for (const name of [...waiting, ...admitted]) {
      const run = cached(name);
      expect(run?.[CACHED], name).toBe('summary');
      expect(JSON.stringify(run).length, name).toBeLessThan(4096);
    }
    expect(cached(waiting[0]!)?.spec).toEqual({
      kind: 'job',
      pool: 'gpu',
      connections: [],
      job: expect.objectContaining({ container: { resources: { limits: { [GPU_RESOURCE]: 16 } } } }),
    });
    const whole = cached(small);
    expect(whole?.[CACHED]).toBe('whole');
    expect(JSON.stringify(whole?.spec).length).toBeLessThan(WHOLE_SPEC_LIMIT);
    expect(whole?.spec).toHaveProperty('environment');
    // Nobody reads labels or annotations: a team's 100 kB of them stay out of every cached run.
    for (const name of all) expect(Object.keys(cached(name)?.metadata ?? {}), name).not.toContain('annotations');
  });

  it('reconciles large and small runs without a GET each time, and GETs a summary run whose spec changed', async () => {
    const reconciles = async () =>
      (await metrics.registry.getSingleMetric(CONTROLLER_METRICS.reconcileTotal)?.get())?.values.reduce(
        (sum, v) => sum + v.value,
        0,
      ) ?? 0;
    for (const name of [largeService, smallService]) await waitForRun(NS, name, inPhase('running'));
    expect((runs.get(largeService, NS) as CachedRun | undefined)?.[CACHED]).toBe('summary');
    expect((runs.get(smallService, NS) as CachedRun | undefined)?.[CACHED]).toBe('whole');
    // Nothing else reads runs meanwhile: the API server's count of GETs is the controller's.
    const [getsBefore, reconcilesBefore] = [await getsOfRuns(), await reconciles()];
    await new Promise((r) => setTimeout(r, 5 * RESYNC_MS));
    const [gets, reconciled] = [(await getsOfRuns()) - getsBefore, (await reconciles()) - reconcilesBefore];
    // The services, and every other unfinished run, several times over.
    expect(reconciled).toBeGreaterThanOrEqual(3 * 8);
    expect(gets).toBe(0);

    await patchRun(NS, largeService, { service: { replicas: 2 } });
    const apps = kubeConfigAs('admin').makeApiClient(AppsV1Api);
    await eventually('the large service to roll to its new spec', async () => {
      const deployment = await apps.readNamespacedDeployment({ name: largeService, namespace: NS });
      return deployment.spec?.replicas === 2 &&
        deployment.spec.template.spec?.containers[0]?.args?.length === argsOf(largeService).length
        ? true
        : undefined;
    });
  });
});
