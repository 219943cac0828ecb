/**
 * `npm run bench:logs`: the log archive under load, on its own control plane with real nodes.
 * RUNS job runs on the real `cpu` pool (CPU_NODES nodes, so that every pod fits at once) wait for a
 * common start time, then each prints LINES numbered lines and exits: RUNS containers write at once.
 * The team's quota is raised so that nothing queues; the shape is printed. Figures:
 * - lines lost or written twice, over every run (target 0);
 * - the delay from a container's exit (the kubelet's time of its last line) to its complete log
 *   being in the archive (the controller's log of the pod archived, after its last chunk was
 *   written), p50 and p99 (target p99 under 15 s);
 * - the controller's CPU seconds and peak resident memory over the whole benchmark: it reconciles
 *   the runs too, so this is the archiver's cost with the run controller's beside it.
 * The controller runs as on a platform: its Deployment (one replica), on a real core node, reaching
 * the store at its Service. A controller on this machine reached it through one `kubectl
 * port-forward`, which 200 streams' chunk writes broke again and again: nothing was archived. Its
 * process is this machine's too (the nodes are namespaces of it), so /proc gives its figures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { RUN_API_VERSION, RUN_GROUP, RUN_KIND, RUN_PLURAL, RUN_VERSION, type Run } from '../../controller/api/run.js';
import { imageReference, LOCAL_REGISTRY } from '../../images/reference.js';
import { applyPlatform } from '../../local-cluster/apply-platform.js';
import { startCluster, stopCluster } from '../../local-cluster/control-plane.js';
import { realNodeOptions } from '../../local-cluster/real-node-options.js';
import { writeFreshStoreSecrets } from '../../local-cluster/store-secrets.js';
import { renderPlatform } from '../../constructs/platform.js';
import { PLINTH_LABELS, selectorLabels } from '../../model/labels.js';
import { CONTROLLER_COMPONENT } from '../../model/names.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { environments } from '../../stacks/environments/index.js';
import { openLogArchiveAccess, readArchive } from '../support/log-archive.js';
import type { K8sObject } from '../support/platform.js';
import { cpuSeconds, inParallel, memoryMiB, percentile } from '../support/process-figures.js';

const RUNS = 200;
const LINES = 10_000;
const CPU_NODES = 3;
const TARGET = { lost: 0, p99Seconds: 15 };
const TEAM = 'vision';
/** Room for every run's pod at once, by requests and by limits (a pod's limits are its main container's and its sidecar's). */
const QUOTA = { cpu: '512', memory: '512Gi' };
const NS = `plinth-${TEAM}`;
/** Long enough for every pod to be running before the lines start: three Python processes start in each. */
const START_AFTER_MS = 360_000;

/** The controller's process, as this machine sees it: its container runs node on its bundle. */
function controllerPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('/app/controller.mjs')) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  throw new Error("the controller's process is not running on this machine");
}

/**
 * The platform with its controller at one replica, the one process measured, and making no MLflow
 * runs: what is measured is the archive, and MLflow would take the core nodes' CPU from it.
 */
function oneController(objects: K8sObject[]): K8sObject[] {
  return objects.map((o) => {
    if (o.kind !== 'Deployment' || o.metadata.name !== CONTROLLER_COMPONENT) return o;
    const spec = o['spec'] as { template: { spec: { containers: { args?: string[] }[] } } };
    const containers = spec.template.spec.containers.map((c) => ({ ...c, args: [...(c.args ?? []), '--no-tracking'] }));
    return {
      ...o,
      spec: { ...spec, replicas: 1, template: { ...spec.template, spec: { ...spec.template.spec, containers } } },
    };
  });
}

const dir = await mkdtemp(join(tmpdir(), 'plinth-bench-logs-'));
try {
  const local = environments['local'];
  if (!local) throw new Error('no local environment');
  // Room for every run at once: the team's concurrency and quota, sized to the benchmark.
  const input = {
    ...local,
    teams: (local.teams ?? []).map((t) =>
      t.name === TEAM ? { ...t, quota: { ...t.quota, ...QUOTA, maxConcurrentRuns: RUNS } } : t,
    ),
  };
  const config = validatePlatformConfig('local', input);
  if (config.artifacts.kind !== 's3') throw new Error('the local environment keeps its artifacts in S3');
  const state = await startCluster({
    dir,
    realNodes: { ...(await realNodeOptions()), cpuNodesPerPool: CPU_NODES },
    log: () => undefined,
  });
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  await writeFreshStoreSecrets(kc, config);
  await applyPlatform(kc, oneController(renderPlatform(config).flatMap((c) => c.objects as K8sObject[])));
  // The archive is read back from this machine, through a port-forward, once every run is done.
  const access = await openLogArchiveAccess(state.kubeconfig, state.binDirs);
  const runs = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);

  // The controller leads once its pod is ready (its readiness says its caches are synced).
  const selector = Object.entries(selectorLabels(CONTROLLER_COMPONENT))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  let controllerPod = '';
  for (const deadline = Date.now() + 300_000; !controllerPod; await sleep(2_000)) {
    if (Date.now() > deadline) throw new Error('the controller was not ready within 5 minutes');
    const listed = await core.listNamespacedPod({ namespace: config.namespace, labelSelector: selector });
    const ready = listed.items.find((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    controllerPod = ready?.metadata?.name ?? '';
  }
  /**
   * The controller's figures, sampled: a container that restarts is another process, whose CPU
   * seconds add to its predecessor's, and whose peak may be the higher.
   */
  const usage = { pid: controllerPid(), earlierCpu: 0, cpu: 0, peak: 0 };
  const sample = () => {
    try {
      const pid = controllerPid();
      if (pid !== usage.pid) Object.assign(usage, { pid, earlierCpu: usage.earlierCpu + usage.cpu, cpu: 0 });
      usage.cpu = cpuSeconds(pid);
      usage.peak = Math.max(usage.peak, memoryMiB(pid, 'VmHWM'));
    } catch {
      // Between two instances: the next sample sees the new one.
    }
  };
  const sampler = setInterval(sample, 2_000).unref();
  /** When the controller logged each pod archived, by pod name: the instance before a restart's too. */
  const archived = new Map<string, number>();
  const readArchivedLog = async () => {
    const read = (previous: boolean) =>
      core.readNamespacedPodLog({ name: controllerPod, namespace: config.namespace, previous }).catch(() => '');
    const log = `${await read(true)}\n${await read(false)}`;
    for (const line of log.split('\n')) {
      if (!line.includes("archived a pod's logs")) continue;
      const entry = JSON.parse(line) as { pod: string; time: string };
      archived.set(entry.pod.split('/')[1] ?? '', new Date(entry.time).getTime());
    }
  };
  const image = imageReference('python', LOCAL_REGISTRY);
  const startAt = (Date.now() + START_AFTER_MS) / 1000;
  const script = [
    'import time',
    `time.sleep(max(0, ${startAt} - time.time()))`,
    `for i in range(${LINES}): print(f"line {i}")`,
  ].join('\n');
  const names = Array.from({ length: RUNS }, (_, i) => `logs-${i}`);
  await inParallel(names, 10, async (name) => {
    await runs.createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace: NS,
      body: {
        apiVersion: RUN_API_VERSION,
        kind: RUN_KIND,
        metadata: { name },
        spec: {
          kind: 'job',
          pool: 'cpu',
          job: {
            container: {
              image,
              command: ['python3', '-c', script],
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
            },
          },
        },
      },
    });
  });
  // The shape: how many containers were running when the lines began.
  await sleep(Math.max(0, startAt * 1000 - Date.now() - 2_000));
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: PLINTH_LABELS.run });
  const running = pods.items.filter((p) => p.status?.containerStatuses?.some((c) => c.state?.running)).length;
  console.log(
    `shape: ${RUNS} runs of ${LINES} lines on ${CPU_NODES} real cpu nodes; ${running} containers running when the lines began; team quota ${RUNS} concurrent runs, ${QUOTA.cpu} CPUs, ${QUOTA.memory}`,
  );

  const deadline = Date.now() + 600_000;
  while (archived.size < RUNS && Date.now() < deadline) {
    await sleep(10_000);
    await readArchivedLog();
  }
  if (archived.size < RUNS) console.log(`only ${archived.size} of ${RUNS} pods were archived within 10 minutes`);

  let lost = 0;
  let twice = 0;
  const delays: number[] = [];
  // Four at once: the port-forward carries them all.
  await inParallel(names, 4, async (name) => {
    const run = (await runs.getNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace: NS,
      name,
    })) as Run;
    const logs = await readArchive(access, config.artifacts as never, TEAM, run.metadata.uid ?? '');
    const main = [...logs].find(([where]) => where.endsWith('/main'));
    const lines = main?.[1].lines ?? [];
    const seen = new Set(lines);
    lost += Array.from({ length: LINES }, (_, i) => `line ${i}`).filter((l) => !seen.has(l)).length;
    twice += lines.length - seen.size;
    const pod = main?.[0].split('/')[0] ?? '';
    const lastLine = main?.[1].times.at(-1);
    const done = archived.get(pod);
    if (lastLine && done) delays.push(done - new Date(lastLine).getTime());
  });
  clearInterval(sampler);
  sample();
  const instance = (await core.listNamespacedPod({ namespace: config.namespace, labelSelector: selector })).items.find(
    (p) => p.metadata?.name === controllerPod,
  )?.status?.containerStatuses?.[0];
  const p99 = percentile(delays, 99) / 1000;
  console.log(
    `lines lost: ${lost}, written twice: ${twice}, of ${RUNS * LINES}; target ${TARGET.lost}: ${lost + twice === TARGET.lost ? 'met' : 'NOT met'}`,
  );
  console.log(
    `exit to complete log in the archive, ${delays.length} containers: p50 ${(percentile(delays, 50) / 1000).toFixed(1)} s, p99 ${p99.toFixed(1)} s; target p99 < ${TARGET.p99Seconds} s: ${p99 < TARGET.p99Seconds ? 'met' : 'NOT met'}`,
  );
  const restarts = instance?.restartCount ?? 0;
  const ended = instance?.lastState?.terminated;
  console.log(
    `controller (archiver and run controller): ${(usage.earlierCpu + usage.cpu).toFixed(1)} CPU seconds, peak ${usage.peak.toFixed(0)} MiB resident; restarted ${restarts} time(s)${ended ? ` (last: ${ended.reason}, exit code ${ended.exitCode})` : ''}`,
  );
  if (ended) {
    // Why the last instance ended, in its own words.
    const last = await core
      .readNamespacedPodLog({ name: controllerPod, namespace: config.namespace, previous: true, tailLines: 5 })
      .catch(() => '');
    console.log(`its last lines before that restart:\n${last.trim()}`);
  }
} finally {
  await stopCluster(dir);
}
