/**
 * The Plinth controller. In the cluster it runs from its Deployment with in-cluster credentials;
 * `npm run controller` runs it against KUBECONFIG, as the tests and the local harness do.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { CONTROLLER_PORTS } from './api/metrics.js';
import { EventRecorder } from './runtime/event-recorder.js';
import { startHttpServers } from './runtime/http-servers.js';
import { loadKubeConfig } from './runtime/kube-config.js';
import { LeaderElector } from './runtime/leader-election.js';
import { createLogger } from './runtime/log.js';
import { createMetrics } from './metrics.js';
import { loadPlatformDefaults } from './runs/platform-defaults-loader.js';
import { RESYNC_MS, RunController } from './runs/run-controller.js';
import { REPORTING_CONTROLLER } from './runs/run-events.js';

const { values: flags } = parseArgs({
  options: {
    namespace: { type: 'string', default: process.env['POD_NAMESPACE'] ?? 'plinth' },
    'config-map': { type: 'string', default: 'plinth-controller' },
    lease: { type: 'string', default: 'plinth-controller' },
    'lease-duration': { type: 'string', default: '15' },
    identity: { type: 'string', default: process.env['POD_NAME'] ?? `${hostname()}-${process.pid}` },
    // Reconciles in flight. Each mostly waits on the API server, which under load answers in a
    // few hundred milliseconds: too few workers and a new run's Job waits behind status writes.
    workers: { type: 'string', default: '48' },
    'resync-seconds': { type: 'string', default: String(RESYNC_MS / 1000) },
    'bind-address': { type: 'string', default: process.env['KUBERNETES_SERVICE_HOST'] ? '0.0.0.0' : '127.0.0.1' },
    'metrics-port': { type: 'string', default: String(CONTROLLER_PORTS.metrics) },
    'health-port': { type: 'string', default: String(CONTROLLER_PORTS.health) },
  },
});

const log = createLogger();

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
  const kc = loadKubeConfig();
  const namespace = flags.namespace;
  const metrics = createMetrics();
  const shutdown = new AbortController();
  const elector = new LeaderElector(
    kc,
    { namespace, name: flags.lease, identity: flags.identity, leaseDurationSeconds, metrics: metrics.leaderElection },
    log,
  );
  let controller: RunController | undefined;

  const servers = startHttpServers({
    host: flags['bind-address'],
    metricsPort,
    healthPort,
    registry: metrics.registry,
    // A standby replica is ready; the leader once its caches are synced.
    ready: () => !elector.isLeader || controller?.isSynced === true,
  });

  let stopping = false;
  const stop = async (signal: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    shutdown.abort();
    await controller?.stop();
    await elector.release();
    servers.forEach((s) => s.close());
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));

  log.info({ identity: flags.identity, lease: `${namespace}/${flags.lease}` }, 'waiting for leadership');
  const leading = await elector.acquire(shutdown.signal, () => void stop('lease lost', 1));
  if (!leading) return;

  const defaults = await loadPlatformDefaults(kc, namespace, flags['config-map']);
  log.info({ environment: defaults.environment, teams: Object.keys(defaults.teams) }, 'loaded platform defaults');
  const events = new EventRecorder(
    kc,
    { reportingController: REPORTING_CONTROLLER, reportingInstance: flags.identity },
    log,
  );
  controller = new RunController(kc, defaults, log, metrics, events, resyncMs);
  await Promise.all(await controller.start(workers));
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'controller failed');
  process.exit(1);
});
