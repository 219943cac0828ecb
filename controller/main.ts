/**
 * The Plinth controller. In the cluster it runs from its Deployment with in-cluster credentials;
 * `npm run controller` runs it against KUBECONFIG, as the tests and the local harness do.
 */
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { CONTROLLER_NAME } from '../model/names.js';
import {
  CONTROLLER_PORTS,
  LOG_ARCHIVER_NAME,
  PARENT_CONTROLLER_NAME,
  RETENTION_CONTROLLER_NAME,
  RUN_CONTROLLER_NAME,
  RUN_TRACKER_NAME,
} from './api/metrics.js';
import { LOGS_API_PORT } from './api/logs.js';
import { LogsApiServer } from './logs-api/logs-api-server.js';
import { EventRecorder } from './runtime/event-recorder.js';
import { startHttpServers } from './runtime/http-servers.js';
import { loadKubeConfig } from './runtime/kube-config.js';
import { LeaderElector } from './runtime/leader-election.js';
import { createLogger } from './runtime/log.js';
import { Manager } from './runtime/manager.js';
import { createMetrics } from './metrics.js';
import { loadPlatformDefaults } from './runs/platform-defaults-loader.js';
import { ParentController } from './parents/parent-controller.js';
import { RunCollector } from './retention/run-collector.js';
import { LogArchiver } from './logs/log-archiver.js';
import { s3LogStore } from './logs/log-store.js';
import { RESYNC_MS, RunController } from './runs/run-controller.js';
import { REPORTING_CONTROLLER } from './runs/run-events.js';
import { RunTracker } from './tracking/run-tracker.js';

const { values: flags } = parseArgs({
  options: {
    namespace: { type: 'string', default: process.env['POD_NAMESPACE'] ?? 'plinth' },
    // The constructs name the controller's ConfigMap and Lease after it.
    'config-map': { type: 'string', default: CONTROLLER_NAME },
    lease: { type: 'string', default: CONTROLLER_NAME },
    'lease-duration': { type: 'string', default: '15' },
    identity: { type: 'string', default: process.env['POD_NAME'] ?? `${hostname()}-${process.pid}` },
    // Reconciles in flight. Each mostly waits on the API server, which under load answers in a
    // few hundred milliseconds: too few workers and a new run's Job waits behind status writes.
    workers: { type: 'string', default: '48' },
    'resync-seconds': { type: 'string', default: String(RESYNC_MS / 1000) },
    'bind-address': { type: 'string', default: process.env['KUBERNETES_SERVICE_HOST'] ? '0.0.0.0' : '127.0.0.1' },
    'metrics-port': { type: 'string', default: String(CONTROLLER_PORTS.metrics) },
    'health-port': { type: 'string', default: String(CONTROLLER_PORTS.health) },
    // Log streams held open at once, each a connection through the API server to a kubelet: as
    // many as the containers a platform runs at once, so that none waits to be followed.
    'log-streams': { type: 'string', default: '256' },
    // The store's URL as this process reaches it, where that is not the config's: a controller run
    // outside the cluster (`npm run controller`, the tests) reaches the store through a port-forward.
    'log-archive-endpoint': { type: 'string' },
    // The tracking server's URL as this process reaches it, where that is not the config's, as above.
    'tracking-endpoint': { type: 'string' },
    // --no-tracking: no MLflow run for any run, for a controller that cannot reach the tracking
    // server at all, or whose runs are timed without it (most test suites, the benchmarks).
    tracking: { type: 'boolean', default: true },
    // The read API of runs' logs (logs.plinth.dev), which every replica serves; 0 takes a free port.
    // --no-logs-api: none, for a controller that the API server does not forward to (most test suites).
    'logs-api-port': { type: 'string', default: String(LOGS_API_PORT) },
    'logs-api': { type: 'boolean', default: true },
  },
  allowNegative: true,
});

const log = createLogger(CONTROLLER_NAME);

/** How long after the logs API failed to start it is tried again. */
const LOGS_API_RETRY_MS = 30_000;

/** A numeric flag's value, or an error that names the flag and what it allows. */
function wholeNumber(name: keyof typeof flags, least: number): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < least) {
    throw new Error(`--${name} must be a whole number of at least ${least}, not "${flags[name]}"`);
  }
  return value;
}

async function main(): Promise<void> {
  // Every flag is checked before anything starts.
  const workers = wholeNumber('workers', 1);
  const resyncMs = wholeNumber('resync-seconds', 1) * 1000;
  const leaseDurationSeconds = wholeNumber('lease-duration', 1);
  const metricsPort = wholeNumber('metrics-port', 0);
  const healthPort = wholeNumber('health-port', 0);
  const logStreams = wholeNumber('log-streams', 1);
  const logsApiPort = wholeNumber('logs-api-port', 0);
  const kc = loadKubeConfig();
  const namespace = flags.namespace;
  const metrics = createMetrics();
  const elector = new LeaderElector(
    kc,
    { namespace, name: flags.lease, identity: flags.identity, leaseDurationSeconds, metrics: metrics.leaderElection },
    log,
  );
  // The manager holds the lease, starts the informers and then the controller, and stops them in
  // the reverse order (runtime/manager.ts).
  const manager = new Manager(kc, { log, leaderElector: elector });

  const servers = startHttpServers({
    host: flags['bind-address'],
    metricsPort,
    healthPort,
    registry: metrics.registry,
    // A standby replica is ready; the leader once its caches are synced.
    ready: () => manager.isReady,
  });
  process.on('SIGTERM', () => void manager.stop('SIGTERM'));
  process.on('SIGINT', () => void manager.stop('SIGINT'));
  // A port taken fails the start, naming it; port 0 takes a free one, which this line says.
  await Promise.all(servers.map((s) => once(s, 'listening')));
  const [metricsAt, healthAt] = servers.map((s) => (s.address() as AddressInfo).port);
  log.info({ metricsPort: metricsAt, healthPort: healthAt }, 'serving metrics and health');

  // Every replica serves the read API of logs: reads need no lease. Runs are reconciled whether
  // or not it could start; until it does, its APIService says it is unavailable, and this says why.
  let logsApi: LogsApiServer | undefined;
  let stopped = false;
  const startLogsApi = async (): Promise<void> => {
    while (!stopped) {
      try {
        const defaults = await loadPlatformDefaults(kc, namespace, flags['config-map']);
        const location = defaults.logArchive;
        logsApi = await LogsApiServer.start(
          kc,
          {
            host: flags['bind-address'],
            port: logsApiPort,
            namespace,
            defaults,
            store: location ? s3LogStore(location, flags['log-archive-endpoint']) : undefined,
          },
          log,
        );
        log.info({ logsApiPort: logsApi.port }, 'serving the logs API');
        return;
      } catch (error) {
        log.error({ err: error, retryInSeconds: LOGS_API_RETRY_MS / 1000 }, 'the logs API could not start');
        await delay(LOGS_API_RETRY_MS, undefined, { ref: false });
      }
    }
  };
  if (flags['logs-api']) void startLogsApi();

  log.info({ identity: flags.identity, lease: `${namespace}/${flags.lease}` }, 'waiting for leadership');
  // Only the leader reads the platform defaults and builds the controller.
  const ended = await manager.start(async () => {
    const defaults = await loadPlatformDefaults(kc, namespace, flags['config-map']);
    log.info({ environment: defaults.environment, teams: Object.keys(defaults.teams) }, 'loaded platform defaults');
    const events = new EventRecorder(
      kc,
      { reportingController: REPORTING_CONTROLLER, reportingInstance: flags.identity },
      log,
    );
    // Each run's MLflow run, made before its workload; the Run controller is told when one is.
    let enqueueRun: (key: string) => void = () => undefined;
    const tracker = flags.tracking
      ? new RunTracker(kc, manager, defaults, flags['tracking-endpoint'], (key) => enqueueRun(key), log, metrics)
      : undefined;
    const controller = new RunController(kc, manager, defaults, log, metrics, events, resyncMs, tracker);
    enqueueRun = (key) => controller.queue.add(key);
    if (tracker) {
      manager.add({
        name: RUN_TRACKER_NAME,
        // Each reconcile is a few calls to the tracking server, each with its own deadline.
        start: async () => {
          await Promise.all(tracker.start(4));
        },
        stop: () => tracker.stop(),
      });
    }
    manager.add({
      name: RUN_CONTROLLER_NAME,
      start: async () => {
        await Promise.all(await controller.start(workers));
      },
      stop: () => controller.stop(),
    });
    // Parents only write their own status for now: one worker is plenty.
    const parents = new ParentController(kc, manager, log, metrics, events);
    manager.add({
      name: PARENT_CONTROLLER_NAME,
      start: async () => {
        await Promise.all(parents.start(1));
      },
      stop: () => parents.stop(),
    });
    // Deletions are few and quick; a handful of workers clears the backlog a controller that was
    // down for a while finds.
    const collector = new RunCollector(kc, manager, defaults.runRetention, log, metrics, events);
    manager.add({
      name: RETENTION_CONTROLLER_NAME,
      start: async () => {
        await Promise.all(collector.start(4));
      },
      stop: () => collector.stop(),
    });
    // Where the store keeps no logs, run pods carry no logs finalizer, and nothing is archived.
    const location = defaults.logArchive;
    if (location) {
      const store = s3LogStore(location, flags['log-archive-endpoint']);
      const archiver = new LogArchiver(kc, manager, { location, store, streams: logStreams }, log, metrics);
      manager.add({
        name: LOG_ARCHIVER_NAME,
        // A reconcile only starts or ends a pod's streams, which run beside the workers.
        start: async () => {
          await Promise.all(archiver.start(4));
        },
        stop: () => archiver.stop(),
      });
    }
  });
  servers.forEach((s) => s.close());
  stopped = true;
  await logsApi?.close();
  // A lost lease exits 1: another replica may lead already, and the pod's restart shows it.
  process.exit(ended === 'lease lost' ? 1 : 0);
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'controller failed');
  process.exit(1);
});
